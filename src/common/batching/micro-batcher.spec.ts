import { MicroBatcher } from 'src/common/batching/micro-batcher';

describe('MicroBatcher', () => {
  it('runs a lone call at once, alone', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number, number>(
      async (items) => {
        batches.push(items);
        return items.map((i) => i * 2);
      },
      1,
      10,
    );
    expect(await b.submit(21)).toBe(42);
    expect(batches).toEqual([[21]]);
  });

  it('groups calls that arrive while the slots are busy, in order, bounded by maxBatch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number, string>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
        return items.map((i) => `r${i}`);
      },
      1,
      3,
    );
    const results = Promise.all([1, 2, 3, 4, 5, 6].map((i) => b.submit(i)));
    release();
    expect(await results).toEqual(['r1', 'r2', 'r3', 'r4', 'r5', 'r6']);
    expect(batches).toEqual([[1], [2, 3, 4], [5, 6]]);
  });

  it('rejects every call of a failed batch and keeps serving later ones', async () => {
    let fail = true;
    const b = new MicroBatcher<number, number>(
      async (items) => {
        if (fail) throw new Error('db down');
        return items;
      },
      2,
      10,
    );
    await expect(b.submit(1)).rejects.toThrow('db down');
    fail = false;
    expect(await b.submit(2)).toBe(2);
  });
});

import pino from 'pino';
import { ClusterChannels, MemoryClusterBus } from 'src/cache/cluster-bus';
import { ReplicatedSnapshot, type ReplicatedSnapshotOptions } from 'src/cache/replicated-snapshot';

/** A bus whose `connected` the test sets (the memory bus is always connected). */
class TestBus extends MemoryClusterBus {
  up = true;
  override get connected(): boolean {
    return this.up;
  }
}

/** A load the test finishes by hand, counting calls. */
function manualLoad() {
  const pending: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const load = jest.fn(
    () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
  );
  return { load, pending };
}

const logger = pino({ level: 'silent' });
const flush = () => new Promise((r) => setImmediate(r));

describe('ReplicatedSnapshot', () => {
  const made: ReplicatedSnapshot[] = [];
  const snapshot = (
    bus: MemoryClusterBus,
    options: Partial<ReplicatedSnapshotOptions> & Pick<ReplicatedSnapshotOptions, 'load'>,
  ) => {
    const s = new ReplicatedSnapshot({
      name: 'things',
      channel: ClusterChannels.issuers,
      bus,
      logger,
      poll: { everyMs: 60_000, whileBehindMs: 1_000 },
      ...options,
    });
    made.push(s);
    return s;
  };
  afterEach(() => {
    jest.useRealTimers();
    for (const s of made.splice(0)) s.stop();
  });

  it('never overlaps loads, and a reload asked during a load gets exactly one more load after it', async () => {
    const { load, pending } = manualLoad();
    const s = snapshot(new MemoryClusterBus(), { load });
    const first = s.reload();
    const second = s.reload();
    const third = s.reload();
    expect(second).toBe(third); // coalesced into one queued load
    expect(load).toHaveBeenCalledTimes(1);
    pending[0].resolve();
    await first;
    await flush();
    expect(load).toHaveBeenCalledTimes(2); // started after the first one ended
    pending[1].resolve();
    await Promise.all([second, third]);
    expect(load).toHaveBeenCalledTimes(2);
    expect(s.loaded).toBe(true);
  });

  it('runs the queued load even when the one in flight fails', async () => {
    const { load, pending } = manualLoad();
    const s = snapshot(new MemoryClusterBus(), { load });
    const first = s.reload();
    const second = s.reload();
    pending[0].reject(new Error('db down'));
    await expect(first).rejects.toThrow('db down');
    expect(s.lastLoadFailed).toBe(true);
    await flush();
    pending[1].resolve();
    await second;
    expect(s.lastLoadFailed).toBe(false);
  });

  it("reloads on other nodes' messages, not on its own, and publishes after its own reload", async () => {
    const bus = new MemoryClusterBus();
    const events: string[] = [];
    const a = snapshot(bus, { load: async () => void events.push('a loads') });
    const b = snapshot(bus, { load: async () => void events.push('b loads') });
    await Promise.all([a.start(), b.start()]);
    events.length = 0;
    await a.changed({ what: 'x' });
    await flush();
    expect(events).toEqual(['a loads', 'b loads']);
  });

  it('hands messages that carry the change to the service, and reloads only when it asks', async () => {
    const bus = new MemoryClusterBus();
    const seen: unknown[] = [];
    const load = jest.fn(async () => undefined);
    const s = snapshot(bus, {
      load,
      onMessage: (payload, fromThisNode) => {
        seen.push({ payload, fromThisNode });
        return false;
      },
    });
    await s.start();
    await s.publish({ value: 1 });
    await bus.publish(ClusterChannels.issuers, { value: 2 });
    expect(seen).toEqual([
      { payload: expect.objectContaining({ value: 1 }), fromThisNode: true },
      { payload: { value: 2 }, fromThisNode: false },
    ]);
    expect(load).toHaveBeenCalledTimes(1); // the first load only
  });

  it('polls rarely while the bus is connected, often while it is down or a load failed', async () => {
    jest.useFakeTimers();
    const bus = new TestBus();
    let failing = false;
    const load = jest.fn(async () => {
      if (failing) throw new Error('db down');
    });
    const s = snapshot(bus, { load });
    await s.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(load).toHaveBeenCalledTimes(1); // connected: nothing before 60 s

    bus.up = false;
    await jest.advanceTimersByTimeAsync(3_050);
    expect(load).toHaveBeenCalledTimes(4); // once a second while messages may be missed

    failing = true;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(s.lastLoadFailed).toBe(true);
    bus.up = true;
    const afterFailure = load.mock.calls.length;
    await jest.advanceTimersByTimeAsync(2_050);
    expect(load.mock.calls.length).toBeGreaterThanOrEqual(afterFailure + 2); // still fast: behind
    failing = false;
    await jest.advanceTimersByTimeAsync(1_050);
    expect(s.lastLoadFailed).toBe(false);
    const recovered = load.mock.calls.length;
    await jest.advanceTimersByTimeAsync(30_000);
    expect(load.mock.calls.length).toBe(recovered); // back to the slow pace
  });

  it('asks the cheap question first and loads only when something changed', async () => {
    jest.useFakeTimers();
    const bus = new TestBus();
    bus.up = false;
    let version = 1;
    const changed = jest.fn(async () => version !== 1);
    const load = jest.fn(async () => undefined);
    const s = snapshot(bus, { load, changed });
    await s.start();
    await jest.advanceTimersByTimeAsync(2_050);
    expect(changed).toHaveBeenCalledTimes(2);
    expect(load).toHaveBeenCalledTimes(1);
    version = 2;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('keeps polling after a failed first load, and reports the failure to the caller', async () => {
    jest.useFakeTimers();
    let failing = true;
    const load = jest.fn(async () => {
      if (failing) throw new Error('db down');
    });
    const s = snapshot(new TestBus(), { load });
    await expect(s.start()).rejects.toThrow('db down');
    expect(s.loaded).toBe(false);
    failing = false;
    await jest.advanceTimersByTimeAsync(1_050);
    expect(s.loaded).toBe(true);
  });

  it('reloads on demand at most once per interval, waiting for the load in flight in between', async () => {
    const { load, pending } = manualLoad();
    const s = snapshot(new MemoryClusterBus(), { load });
    const first = s.reloadOnDemand(5_000);
    let secondDone = false;
    const second = s.reloadOnDemand(5_000).then(() => (secondDone = true));
    await flush();
    expect(secondDone).toBe(false); // waits for the load in flight
    pending[0].resolve();
    await Promise.all([first, second]);
    await s.reloadOnDemand(5_000);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('stops polling and ignores messages after stop', async () => {
    jest.useFakeTimers();
    const bus = new TestBus();
    bus.up = false;
    const load = jest.fn(async () => undefined);
    const s = snapshot(bus, { load });
    await s.start();
    s.stop();
    await bus.publish(ClusterChannels.issuers, {});
    await jest.advanceTimersByTimeAsync(5_000);
    expect(load).toHaveBeenCalledTimes(1);
    expect(jest.getTimerCount()).toBe(0);
  });
});

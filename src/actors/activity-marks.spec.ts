import { ActivityMarks } from 'src/actors/activity-marks';

const INTERVAL = 60_000;
const T0 = 1_800_000_000_000;
const never = () => 0;

describe('ActivityMarks (last-seen writes, bounded)', () => {
  it('writes a never-seen actor once, then not again within the interval', () => {
    const marks = new ActivityMarks(INTERVAL);
    expect(marks.shouldWrite('a', never, T0)).toBe(true);
    // In flight: a concurrent request does not write again.
    expect(marks.shouldWrite('a', never, T0 + 1)).toBe(false);
    marks.written('a', T0);
    expect(marks.shouldWrite('a', never, T0 + INTERVAL - 1)).toBe(false);
    expect(marks.shouldWrite('a', never, T0 + INTERVAL)).toBe(true);
  });

  it('trusts a recent stored value, and reads it only once', () => {
    const marks = new ActivityMarks(INTERVAL);
    let reads = 0;
    const stored = () => {
      reads++;
      return T0 - 1000;
    };
    for (let i = 0; i < 100; i++) expect(marks.shouldWrite('a', stored, T0 + i)).toBe(false);
    expect(reads).toBe(1);
  });

  it('writes again after a failed write', () => {
    const marks = new ActivityMarks(INTERVAL);
    expect(marks.shouldWrite('a', never, T0)).toBe(true);
    marks.failed('a');
    expect(marks.shouldWrite('a', never, T0 + 1)).toBe(true);
  });

  it('remembers at most its bound of actors, however many distinct ones come', () => {
    const marks = new ActivityMarks(INTERVAL, 500, 1_000_000);
    for (let i = 0; i < 5_000; i++) {
      const id = `actor-${i}`;
      expect(marks.shouldWrite(id, never, T0)).toBe(true);
      marks.written(id, T0);
    }
    expect(marks.size.remembered).toBe(500);
    expect(marks.size.inFlight).toBe(0);
    // The most recent are still remembered; a forgotten one is written again (one extra, idempotent UPDATE).
    expect(marks.shouldWrite('actor-4999', never, T0 + 1)).toBe(false);
    expect(marks.shouldWrite('actor-0', never, T0 + 1)).toBe(true);
  });

  it('keeps at most its bound of writes in flight', () => {
    const marks = new ActivityMarks(INTERVAL, 1000, 4);
    const started = Array.from({ length: 10 }, (_, i) => marks.shouldWrite(`b-${i}`, never, T0));
    expect(started.filter(Boolean)).toHaveLength(4);
    expect(marks.size.inFlight).toBe(4);
    marks.written('b-0', T0);
    expect(marks.shouldWrite('b-9', never, T0)).toBe(true);
    expect(marks.size.inFlight).toBe(4);
  });
});

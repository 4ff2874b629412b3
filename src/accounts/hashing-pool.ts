import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { AppError } from 'src/common/errors/app-error';

/** How far below normal the hashing threads run (Linux `nice`: 0 normal … 19 lowest). */
export const HASHING_NICE = 10;
/** Hashes waiting for a thread at most; beyond, a login is answered "busy, try again" (503). */
export const MAX_QUEUED = 512;
/** A thread idle this long ends (its isolate and argon2 memory are given back); the next hash starts one. */
const IDLE_MS = 30_000;

export interface HashingPoolOptions {
  /** Threads (each hashes one password at a time). Default: one core less than available, 1 to 4. */
  size?: number;
  maxQueued?: number;
  idleMs?: number;
  nice?: number;
}

type Job =
  | { op: 'hash'; password: string; options: object }
  | { op: 'verify'; hash: string; password: string };

interface Pending {
  job: Job;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Slot {
  worker: Worker;
  busy?: Pending;
  idleTimer?: NodeJS.Timeout;
  /** The thread's Linux thread id and the nice value it runs at (when it could be set). */
  tid?: number;
  niceness?: number;
}

// The worker: argon2 synchronously on its own thread, after lowering that thread's scheduling priority
// so that on a busy core the event loop (token validation, every API call) always runs first. Linux
// `setpriority` applies to one thread when given its thread id (/proc/thread-self names it).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const argon2 = require(workerData.argon2);
let tid, niceness;
try {
  const fs = require('node:fs');
  const os = require('node:os');
  tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  os.setPriority(tid, workerData.nice);
  niceness = os.getPriority(tid);
} catch {}
parentPort.postMessage({ ready: true, tid, niceness });
parentPort.on('message', (job) => {
  try {
    const value = job.op === 'hash'
      ? argon2.hashSync(job.password, job.options)
      : argon2.verifySync(job.hash, job.password);
    parentPort.postMessage({ value });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

/**
 * A small pool of dedicated threads for argon2 (issue 9 §1: "hashes in the worker pool, never on the
 * event loop"). Not libuv's pool: that one has four threads by default, shared with file, DNS and
 * WebCrypto work, and at normal priority. Four argon2 threads on the core that runs the event loop get
 * four fifths of it from the scheduler, and token validation drops to a tenth of its throughput while
 * people sign in. Here: at most `size` hashes at a time (one core less than the process may use), on
 * threads running at a lower priority (`nice` 10), with a bounded queue; threads start on demand and
 * end when idle. Passwords travel only in memory between threads, never logged.
 */
export class HashingPool {
  private readonly size: number;
  private readonly maxQueued: number;
  private readonly idleMs: number;
  private readonly nice: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private readonly argon2 = require.resolve('@node-rs/argon2');

  constructor(o: HashingPoolOptions = {}) {
    this.size = o.size ?? Math.max(1, Math.min(4, availableParallelism() - 1));
    this.maxQueued = o.maxQueued ?? MAX_QUEUED;
    this.idleMs = o.idleMs ?? IDLE_MS;
    this.nice = o.nice ?? HASHING_NICE;
  }

  hash(password: string, options: object): Promise<string> {
    return this.submit({ op: 'hash', password, options }) as Promise<string>;
  }

  verify(hash: string, password: string): Promise<boolean> {
    return this.submit({ op: 'verify', hash, password }) as Promise<boolean>;
  }

  /** Threads, busy threads, queued hashes; and the threads' ids and nice values (Linux). */
  stats(): { threads: number; busy: number; queued: number; niceness: (number | undefined)[] } {
    return {
      threads: this.slots.length,
      busy: this.slots.filter((s) => s.busy).length,
      queued: this.queue.length,
      niceness: this.slots.map((s) => s.niceness),
    };
  }

  /** Ends every thread (idle ones end by themselves; this is for tests and shutdown). */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const p of this.queue.splice(0)) p.reject(new Error('hashing pool closed'));
    await Promise.all(slots.map((s) => this.end(s)));
  }

  private submit(job: Job): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { job, resolve, reject };
      const free = this.slots.find((s) => !s.busy);
      if (free) return this.run(free, pending);
      if (this.slots.length < this.size) return this.run(this.spawn(), pending);
      if (this.queue.length >= this.maxQueued) {
        return reject(
          new AppError(
            'UNAVAILABLE',
            'BUSY',
            'Too many sign-ins at once. Try again in a few seconds.',
            { retryAfterSeconds: 2, reason: 'hashing_queue_full' },
          ),
        );
      }
      this.queue.push(pending);
    });
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { argon2: this.argon2, nice: this.nice },
      // Nothing of the parent's `node -r …` preloads (profilers, TypeScript loaders) in the thread.
      execArgv: [],
    });
    worker.unref();
    const slot: Slot = { worker };
    this.slots.push(slot);
    worker.on(
      'message',
      (m: { ready?: true; tid?: number; niceness?: number; value?: unknown; error?: string }) => {
        if (m.ready) {
          slot.tid = m.tid;
          slot.niceness = m.niceness;
          return;
        }
        const done = slot.busy;
        slot.busy = undefined;
        if (done) {
          if (m.error !== undefined) done.reject(new Error(m.error));
          else done.resolve(m.value);
        }
        this.next(slot);
      },
    );
    const fail = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return; // already handled ('error' then 'exit')
      this.slots.splice(i, 1);
      clearTimeout(slot.idleTimer);
      slot.busy?.reject(err);
      slot.busy = undefined;
      // Whatever waits gets a new thread.
      const waiting = this.queue.shift();
      if (waiting) this.run(this.spawn(), waiting);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`hashing thread ended (${code})`)));
    return slot;
  }

  private run(slot: Slot, pending: Pending): void {
    clearTimeout(slot.idleTimer);
    slot.idleTimer = undefined;
    slot.busy = pending;
    slot.worker.postMessage(pending.job);
  }

  private next(slot: Slot): void {
    const waiting = this.queue.shift();
    if (waiting) return this.run(slot, waiting);
    slot.idleTimer = setTimeout(() => {
      const i = this.slots.indexOf(slot);
      if (i >= 0 && !slot.busy) {
        this.slots.splice(i, 1);
        void this.end(slot);
      }
    }, this.idleMs).unref();
  }

  private async end(slot: Slot): Promise<void> {
    clearTimeout(slot.idleTimer);
    slot.worker.removeAllListeners('exit');
    slot.worker.removeAllListeners('error');
    slot.busy?.reject(new Error('hashing pool closed'));
    await slot.worker.terminate();
  }
}

// Runs LogTrimmer's read-truncate-write in a worker thread. Why a worker and not fs promises: the bytes
// a flood writes between the tail read and the truncate are lost, and with promises that gap is two
// thread-pool round trips (measured: up to 4.4 MB lost, a task's last line among them). In a worker the
// steps run back to back, synchronously (a gap of microseconds), and the truncate (up to ~47 ms of kernel
// time for a few hundred MB of page cache) still never blocks the main thread.
// The worker's code is a string so the bundle needs no second entry point; the unit tests run it for real.
import { Worker } from 'node:worker_threads';

export interface TrimJob {
  readonly path: string;
  /** Truncate to this size: the kept head. */
  readonly from: number;
  /** How many of the newest bytes to read first and write back. */
  readonly tailKeep: number;
  /** Where the previous trim lost bytes: zeros there are not kept as output. */
  readonly lostAt?: number;
}

export interface TrimResult {
  /** Where the tail read began, and how much was read (lostAt = readStart + bytesRead). */
  readonly readStart: number;
  readonly bytesRead: number;
  /** Leading zeros of the tail that the previous trim lost: not written back. */
  readonly skip: number;
  /** Set when a step failed; `truncated` = the log was already cut when it did. */
  readonly error?: string;
  readonly truncated?: boolean;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
// Where the run of zeros a previous trim lost at lostAt ends in tail (read at at), or 0 without one.
function lostRunEnd(fd, tail, length, at, lostAt) {
  if (lostAt === undefined || lostAt >= at + length || tail[Math.max(0, lostAt - at)] !== 0) return 0;
  if (lostAt < at) {
    const one = Buffer.alloc(1);
    if (fs.readSync(fd, one, 0, 1, lostAt) !== 1 || one[0] !== 0) return 0;
  }
  let end = Math.max(0, lostAt - at);
  while (end < length && tail[end] === 0) end++;
  return end;
}
parentPort.on('message', (job) => {
  if (job.exit) return parentPort.close();
  let fd, readStart = 0, bytesRead = 0, skip = 0, truncated = false;
  try {
    fd = fs.openSync(job.path, 'r+');
    const size = fs.fstatSync(fd).size;
    readStart = Math.max(job.from, size - job.tailKeep);
    const tail = Buffer.allocUnsafe(size - readStart);
    bytesRead = fs.readSync(fd, tail, 0, tail.length, readStart);
    skip = lostRunEnd(fd, tail, bytesRead, readStart, job.lostAt);
    fs.ftruncateSync(fd, job.from);
    truncated = true;
    fs.writeSync(fd, tail, skip, bytesRead - skip, readStart + skip);
    parentPort.postMessage({ id: job.id, readStart, bytesRead, skip });
  } catch (error) {
    parentPort.postMessage({ id: job.id, readStart, bytesRead, skip, truncated, error: String(error) });
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
});
`;

/** A worker's own heap is ~30 MB: one that was idle this long is stopped (a flood trims every ~0.3 s). */
const IDLE_STOP_MS = 5000;

/** The worker for a manager's trims: started at a trim, stopped when idle; it keeps the process alive only mid-trim. */
export class TrimWorker {
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (result: TrimResult) => void>();

  constructor(private readonly idleStopMs = IDLE_STOP_MS) {}

  /** True while a worker thread exists (started by a trim, not yet stopped when idle). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  run(job: TrimJob): Promise<TrimResult> {
    const id = this.nextId++;
    clearTimeout(this.idleTimer);
    const worker = this.start();
    // Referenced only while a trim is under way: a CLI waiting for a task's end must not exit before it.
    if (this.waiting.size === 0) worker.ref();
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      worker.postMessage({ ...job, id });
    });
  }

  /** Lets a trim under way finish (stopping it between truncate and write-back would lose the tail). */
  dispose(): void {
    clearTimeout(this.idleTimer);
    this.worker?.postMessage({ exit: true });
    this.worker = undefined;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', ({ id, ...result }: TrimResult & { id: number }) => {
      this.waiting.get(id)?.(result);
      this.waiting.delete(id);
      if (this.waiting.size > 0) return;
      worker.unref();
      this.idleTimer = setTimeout(() => this.dispose(), this.idleStopMs);
      this.idleTimer.unref();
    });
    // A worker that died answers nothing more: its jobs fail, and the next trim starts a new one.
    const fail = (error: unknown) => {
      // An earlier worker stopping (idle, disposed) after a new one took over: the jobs are the new one's.
      if (this.worker !== undefined && this.worker !== worker) return;
      this.worker = undefined;
      for (const resolve of this.waiting.values()) resolve({ readStart: 0, bytesRead: 0, skip: 0, error: String(error) });
      this.waiting.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail('The trim worker stopped.'));
    this.worker = worker;
    return worker;
  }
}

// Keeps a flooding task's log from filling the disk. The process writes its log itself (nothing reads in
// between: that is what keeps a flood as fast as `cat`), so the log is trimmed in place, while the
// process keeps writing at its own offset. Once the log holds more than the cap:
//   1. read its newest TAIL_KEEP bytes (up to the size D just seen),
//   2. truncate it to its first bytes: everything after them is dropped (the writer's next bytes land at
//      its offset, past D, and the file is sparse before them),
//   3. write the newest bytes back where they were, into the hole.
// So the log keeps how the command started, its newest output, and everything after; byte offsets stay
// true. Why truncate and not punch a hole (`fallocate --punch-hole`, which would keep more of the newest
// output): ext4 writes the dirty pages of a punched range to disk before freeing them, which made a
// 1 GiB flood 35-45% slower here; a truncate drops them unwritten and cost nothing measurable.
// The price: bytes the process writes between steps 1 and 2 are lost, and read back as zeros right at D;
// readers skip that run of zeros (`DroppedRange.lostAt`). The steps run back to back in a worker thread
// (logTrimWorker.ts), so that gap is microseconds.
import { Worker } from 'node:worker_threads';
import { platform } from '../platform';
import { workerBundlePath } from './workerBundle';

export const DEFAULT_MAX_LOG_BYTES = 256 * 1024 * 1024;
/** So small caps still leave more new output than a trim keeps between two trims (see `lostAt`). */
const MIN_MAX_LOG_BYTES = 4 * 1024 * 1024;
/** The bundle of logTrimWorker.ts (esbuild.config.mjs), beside the running bundle. */
const WORKER_BUNDLE = 'logTrimWorker.js';

/** The cap every task's log is held to, and the worker thread that trims (TaskLog.trimIfOver decides when). */
export class LogTrimmer {
  private cap = DEFAULT_MAX_LOG_BYTES;
  /** Windows fills the skipped part of a file with real zeros: trimming would free nothing there. */
  readonly available = platform.trimsLogs;
  private readonly worker: TrimWorker;

  constructor(maxLogBytes: number, workerIdleStopMs?: number) {
    this.setMaxBytes(maxLogBytes);
    this.worker = new TrimWorker(workerIdleStopMs);
  }

  get maxBytes(): number {
    return this.cap;
  }

  /** True while a worker thread exists (started by a trim, stopped when idle). */
  get workerRunning(): boolean {
    return this.worker.running;
  }

  /** A new cap (a changed setting) applies from the next check on; what was dropped stays dropped. */
  setMaxBytes(maxLogBytes: number): void {
    this.cap = Number.isNaN(maxLogBytes) ? DEFAULT_MAX_LOG_BYTES : Math.max(MIN_MAX_LOG_BYTES, maxLogBytes);
  }

  /** Runs one read-truncate-write in the worker thread. */
  run(job: TrimJob): Promise<TrimResult> {
    return this.worker.run(job);
  }

  /** Lets a trim under way finish; none starts afterwards. */
  dispose(): void {
    this.worker.dispose();
  }
}

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

/** A worker's own heap is ~30 MB: one that was idle this long is stopped (a flood trims every ~0.3 s). */
const IDLE_STOP_MS = 5000;

/** The worker for a manager's trims: started at a trim, stopped when idle; it keeps the process alive only mid-trim. */
class TrimWorker {
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
    const worker = new Worker(workerBundlePath(WORKER_BUNDLE));
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

// The main thread's side of the match worker (matchWorker.ts): one worker per manager, started on first
// use and stopped when idle, taking one request at a time. A request that runs past its budget means the
// pattern backtracks badly on that output (`(.|\s)*error` on a line of spaces doubles its time with every
// space): the worker is stopped, that request fails with PatternTooSlowError, and the next request gets a
// new worker. So no pattern the model writes can freeze the extension host, whatever it matches against.
import { Worker } from 'node:worker_threads';
import type { LineMatchResult } from './lineMatch';
import type { MatchRequest } from './matchWorker';
import { workerBundlePath } from './workerBundle';

const WORKER_BUNDLE = 'matchWorker.js';
/** Most time one request (at most MAX_REQUEST_CHARS of output) may take; a sane pattern needs milliseconds. */
const MATCH_BUDGET_MS = 1000;
/** A worker's heap is tens of MB: one idle this long is stopped. */
const IDLE_STOP_MS = 5000;

export class PatternTooSlowError extends Error {
  constructor(readonly budgetMs: number) {
    super(`matching it took more than ${budgetMs / 1000} s on one piece of the output, so it was stopped (a pattern such as \`(.|\\s)*\` backtracks without end on some lines)`);
    this.name = 'PatternTooSlowError';
  }
}

interface Pending {
  readonly request: Omit<MatchRequest, 'id'>;
  readonly resolve: (result: LineMatchResult) => void;
  readonly reject: (error: Error) => void;
}

export class PatternThread {
  private worker: Worker | undefined;
  private online = false;
  private readonly queue: Pending[] = [];
  private current: (Pending & { readonly id: number }) | undefined;
  private budgetTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private disposed = false;

  constructor(private readonly budgetMs = MATCH_BUDGET_MS) {}

  /** The lines of `text` that `source` matches (lineMatch.ts). Rejects with PatternTooSlowError past the budget. */
  match(source: string, text: string, previousLine?: string): Promise<LineMatchResult> {
    if (this.disposed) return Promise.reject(new Error('The background task manager was disposed.'));
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { source, text, ...(previousLine !== undefined && { previousLine }) }, resolve, reject });
      this.next();
    });
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
    const dropped = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = undefined;
    for (const pending of dropped) pending.reject(new Error('The background task manager was disposed.'));
  }

  private next(): void {
    if (this.current || this.queue.length === 0) return;
    clearTimeout(this.idleTimer);
    const pending = this.queue.shift() as Pending;
    this.current = { ...pending, id: this.nextId++ };
    const worker = this.start();
    // Referenced while it works: a CLI waiting for a match must not exit under it.
    worker.ref();
    worker.postMessage({ ...pending.request, id: this.current.id });
    if (this.online) this.armBudget();
  }

  /** The budget counts from when the worker runs, not from its start-up (slow on a loaded machine). */
  private armBudget(): void {
    clearTimeout(this.budgetTimer);
    this.budgetTimer = setTimeout(() => {
      const overrun = this.current;
      this.current = undefined;
      this.stop();
      overrun?.reject(new PatternTooSlowError(this.budgetMs));
      this.next();
    }, this.budgetMs);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerBundlePath(WORKER_BUNDLE));
    this.worker = worker;
    this.online = false;
    worker.once('online', () => {
      if (this.worker !== worker) return;
      this.online = true;
      if (this.current) this.armBudget();
    });
    worker.on('message', ({ id, ...result }: LineMatchResult & { id: number }) => {
      if (this.worker !== worker || this.current?.id !== id) return;
      const done = this.current;
      this.current = undefined;
      clearTimeout(this.budgetTimer);
      done.resolve(result);
      if (this.queue.length > 0) return this.next();
      worker.unref();
      this.idleTimer = setTimeout(() => this.stop(), IDLE_STOP_MS);
      this.idleTimer.unref();
    });
    // A worker that died answers nothing more: its request fails, the next one starts a new worker.
    const failed = (error: unknown): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      clearTimeout(this.budgetTimer);
      const lost = this.current;
      this.current = undefined;
      lost?.reject(error instanceof Error ? error : new Error(String(error)));
      this.next();
    };
    worker.on('error', failed);
    worker.on('exit', (code) => failed(new Error(`The match worker stopped (exit code ${code}).`)));
    return worker;
  }

  private stop(): void {
    clearTimeout(this.budgetTimer);
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    this.worker = undefined;
    this.online = false;
    void worker?.terminate();
  }
}

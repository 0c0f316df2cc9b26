// Waiting until a task is ready (`wait_for`, `wait_for_port`): a line of its output matches, and/or a
// process of its tree listens on a port (all that are given must hold). While a wait runs, the task's new
// output is read every READY_POLL_MS (a wait is short and rare: the manager's 250 ms output timer is
// for everyone else) and the port watcher looks fast (PortWatcher.hurry), so readiness is seen within
// tens of milliseconds. The task keeps running whatever the outcome; the caller decides what comes next.
import type { ListeningPort } from './listeningPorts';
import { LineMatcher, LogLineReader } from './outputLines';
import { PatternTooSlowError, type PatternThread } from './patternThread';
import type { TaskLog } from './taskLog';

const READY_POLL_MS = 20;

export interface ReadyConditions {
  readonly pattern?: RegExp;
  readonly port?: number;
  readonly timeoutMs: number;
}

export type ReadyOutcome =
  | { readonly kind: 'ready'; readonly afterMs: number; readonly line?: string; readonly port?: ListeningPort }
  | { readonly kind: 'timeout'; readonly afterMs: number; readonly line?: string }
  /** It ended first; `line` when its output did match (it printed the line, then exited). */
  | { readonly kind: 'ended'; readonly line?: string }
  | { readonly kind: 'stopped'; readonly afterMs: number }
  /** The pattern had to be given up (PatternTooSlowError): why, in a sentence. */
  | { readonly kind: 'pattern_failed'; readonly afterMs: number; readonly reason: string };

export interface ReadinessTask {
  readonly id: string;
  readonly log: TaskLog;
  /** Resolves once the task has ended and its log is complete; rejects (and forgets the waiter) when `signal` aborts. */
  waitForEnd(signal?: AbortSignal): Promise<unknown>;
  readonly settled: boolean;
}

/** Resolves with the first of: ready, timed out, ended, stopped (`signal`), pattern given up. Never rejects. */
export function waitUntilReady(
  task: ReadinessTask,
  conditions: ReadyConditions,
  deps: { readonly portsOf: (taskId: string) => readonly ListeningPort[]; readonly patterns: PatternThread },
  signal?: AbortSignal,
): Promise<ReadyOutcome> {
  const started = Date.now();
  // Never jumps ahead: the ready line may come after a flood of build output, and must not be skipped.
  const reader = conditions.pattern ? new LogLineReader(task.log, 0, Infinity) : undefined;
  const matcher = conditions.pattern ? new LineMatcher(conditions.pattern, deps.patterns) : undefined;
  let line: string | undefined;
  /** One read at a time: the poller's and the end's must not both take the same bytes. */
  let reading: Promise<void> = Promise.resolve();
  const readLines = (settled: boolean): Promise<void> => (reading = reading.catch(() => undefined).then(() => readNew(settled)));
  /** Reads what is new and matches it; `settled`: the log is complete. */
  const readNew = async (settled: boolean): Promise<void> => {
    if (!reader || !matcher || line !== undefined) return;
    for (;;) {
      // A line still being written counts once it stood unchanged for a poll (a prompt without a newline),
      // not while it grows ("listening on port 8" of "…8080").
      const { text, more } = await reader.read({ settled, includeStablePartial: true });
      const [first] = await matcher.feed(text);
      if (first) {
        line = first.line;
        return;
      }
      if (!more) return;
    }
  };
  return new Promise<ReadyOutcome>((resolve) => {
    let finished = false;
    let poller: NodeJS.Timeout | undefined;
    const endWait = new AbortController();
    const finish = (outcome: ReadyOutcome): void => {
      if (finished) return;
      finished = true;
      endWait.abort();
      clearTimeout(poller);
      clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const afterMs = (): number => Date.now() - started;
    const onAbort = (): void => finish({ kind: 'stopped', afterMs: afterMs() });
    // A timer can fire a millisecond before Date.now() says the time is up ("not ready after 0.4s" of 0.5).
    const deadline = setTimeout(() => finish({ kind: 'timeout', afterMs: Math.max(afterMs(), conditions.timeoutMs), ...(line !== undefined && { line }) }), conditions.timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    task.waitForEnd(endWait.signal).then(
      // The rest of its output may hold the line (printed just before it exited): said with the end.
      () => void readLines(true).catch(() => undefined).finally(() => finish({ kind: 'ended', ...(line !== undefined && { line }) })),
      () => undefined,
    );

    const check = async (): Promise<void> => {
      if (finished || task.settled) return;
      await readLines(false);
      const port = conditions.port === undefined ? undefined : deps.portsOf(task.id).find((p) => p.port === conditions.port);
      if (finished || task.settled) return;
      if ((conditions.pattern === undefined || line !== undefined) && (conditions.port === undefined || port !== undefined)) {
        finish({ kind: 'ready', afterMs: afterMs(), ...(line !== undefined && { line }), ...(port && { port }) });
      }
    };
    const tick = (): void => {
      check().then(
        () => {
          if (!finished) poller = setTimeout(tick, READY_POLL_MS);
        },
        (error: unknown) => {
          if (error instanceof PatternTooSlowError) finish({ kind: 'pattern_failed', afterMs: afterMs(), reason: error.message });
          else if (!finished) poller = setTimeout(tick, READY_POLL_MS);
        },
      );
    };
    tick();
  });
}

// Waiting until a task is ready (`wait_for`, `wait_for_port`): a line of its output matches, and/or a
// process of its tree listens on a port (all that are given must hold). While a wait runs, the task's new
// output is read every READY_POLL_MS (a wait is short and rare: the manager's 250 ms output timer is
// for everyone else) and the port watcher looks fast (PortWatcher.hurry), so readiness is seen within
// tens of milliseconds. The task keeps running whatever the outcome; the caller decides what comes next.
import type { ListeningPort } from './listeningPorts';
import { LineMatcher, LogLineReader } from './outputLines';
import type { TaskLog } from './taskLog';

export const READY_POLL_MS = 20;

export interface ReadyConditions {
  readonly pattern?: RegExp;
  readonly port?: number;
  readonly timeoutMs: number;
}

export type ReadyOutcome =
  | { readonly kind: 'ready'; readonly afterMs: number; readonly line?: string; readonly port?: ListeningPort }
  | { readonly kind: 'timeout'; readonly afterMs: number; readonly line?: string }
  | { readonly kind: 'ended' }
  | { readonly kind: 'stopped'; readonly afterMs: number };

export interface ReadinessTask {
  readonly id: string;
  readonly log: TaskLog;
  readonly startedAt: number;
  /** Resolves once the task has ended and its log is complete; rejects (and forgets the waiter) when `signal` aborts. */
  waitForEnd(signal?: AbortSignal): Promise<unknown>;
  readonly settled: boolean;
}

/** Resolves with the first of: ready, timed out, ended, stopped (`signal`). Never rejects. */
export function waitUntilReady(
  task: ReadinessTask,
  conditions: ReadyConditions,
  portsOf: (taskId: string) => readonly ListeningPort[],
  signal?: AbortSignal,
): Promise<ReadyOutcome> {
  const started = Date.now();
  const reader = conditions.pattern ? new LogLineReader(task.log) : undefined;
  const matcher = conditions.pattern ? new LineMatcher(conditions.pattern) : undefined;
  let line: string | undefined;
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
    const onAbort = (): void => finish({ kind: 'stopped', afterMs: Date.now() - started });
    const deadline = setTimeout(() => finish({ kind: 'timeout', afterMs: Date.now() - started, ...(line !== undefined && { line }) }), conditions.timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    task.waitForEnd(endWait.signal).then(
      () => finish({ kind: 'ended' }),
      () => undefined,
    );

    const check = async (): Promise<void> => {
      if (finished || task.settled) return;
      if (reader && matcher && line === undefined) {
        // Until it matches: everything new, a line still being written included (a prompt has no newline).
        for (;;) {
          const { text, more } = await reader.read({ settled: false, includePartial: true });
          const [first] = matcher.feed(text);
          if (first) {
            line = first.line;
            break;
          }
          if (!more || finished) break;
        }
      }
      const port = conditions.port === undefined ? undefined : portsOf(task.id).find((p) => p.port === conditions.port);
      if ((conditions.pattern === undefined || line !== undefined) && (conditions.port === undefined || port !== undefined)) {
        finish({ kind: 'ready', afterMs: Date.now() - started, ...(line !== undefined && { line }), ...(port && { port }) });
      }
    };
    const tick = (): void => {
      void check()
        .catch(() => undefined)
        .finally(() => {
          if (!finished) poller = setTimeout(tick, READY_POLL_MS);
        });
    };
    tick();
  });
}

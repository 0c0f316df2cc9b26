// When a model call is made only to hand over finished tasks' results, it waits a moment while more of the
// conversation's tasks are ending, so that a burst reaches the model as one block instead of one call per
// handful (each call re-sends the whole history). The rule, in both places it applies (an idle session
// waking up, agentSession.ts; a turn continuing for results that came in meanwhile, loop.ts):
// - nothing of this conversation still runs: go at once (a lone task's end is not delayed at all);
// - otherwise wait until `quietMs` have passed since the newest queued result, but never past `maxWaitMs`
//   after the oldest one (no result waits longer than that for the others).
// The numbers come from bench/burst.bench.ts: see DEFAULT_COALESCING.
import type { TaskManager } from '../tasks/types';

export interface CoalescingWindow {
  /** Deliver once no further result has come for this long. */
  readonly quietMs: number;
  /** …but no later than this after the oldest queued result. */
  readonly maxWaitMs: number;
}

/**
 * 500 tasks ending together here (2 cores, spawned over ~1.2 s) end with gaps of p99 ~25 ms, the longest
 * ~130 ms while the event loop was busy sending a request; with the loop idle in the window the gaps stay
 * far below 100 ms. 100 ms bridges them and is small next to a model call (seconds). 1 s bounds the wait
 * of the first result of a slow trickle.
 */
export const DEFAULT_COALESCING: CoalescingWindow = { quietMs: 100, maxWaitMs: 1000 };

/**
 * Milliseconds still to wait before the call that delivers the conversation's queued results; 0: go now.
 * `since`: results queued before it count as queued then (ones left from a stopped or failed turn must not
 * cut a new burst's window short). Never more than `maxWaitMs`, also if the clock steps back.
 */
export function coalescingDelay(manager: TaskManager, conversationId: string, window: CoalescingWindow, since?: number, now = Date.now()): number {
  const span = manager.notifications.queuedSpan(conversationId);
  if (!span || manager.runningCount(conversationId) === 0) return 0;
  const start = Math.max(span.first, since ?? span.first);
  const delay = Math.min(span.last + window.quietMs, start + window.maxWaitMs) - now;
  return delay > 0 ? Math.min(delay, window.maxWaitMs) : 0;
}

/**
 * Waits out the window before a delivery call: resolves once it has passed, as soon as the conversation's
 * last running task has ended (its result is queued by then), or when `signal` aborts.
 */
export function waitForMoreResults(manager: TaskManager, conversationId: string, window: CoalescingWindow, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      queued.dispose();
      ended.dispose();
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const check = (): void => {
      clearTimeout(timer);
      const delay = coalescingDelay(manager, conversationId, window);
      if (delay > 0) timer = setTimeout(check, delay);
      else finish();
    };
    const queued = manager.notifications.onQueued((n) => {
      if (n.conversationId === conversationId) check();
    });
    // A task that ends without a result to tell (one a tool waited for) may be the last one running.
    const ended = manager.onEvent((e) => {
      if (e.type === 'ended' && e.task.origin.conversationId === conversationId) check();
    });
    if (signal.aborted) return finish();
    signal.addEventListener('abort', finish, { once: true });
    check();
  });
}

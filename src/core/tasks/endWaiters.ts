// Waiting for a task's end. A record is "settled" once it has ended and everyone was told (log complete,
// `ended` emitted); waiters registered before that run exactly once, waiters after it return at once.
import { toSnapshot, type TaskRecord } from './taskRecord';
import type { TaskSnapshot } from './types';

/** Marks the record settled and runs (then forgets) everyone waiting for it. */
export function settleWaiters(record: TaskRecord): void {
  record.settled = true;
  const waiters = record.endWaiters;
  record.endWaiters = [];
  for (const waiter of waiters) waiter();
}

/** Resolves once the task has ended and everyone was told (log complete, `ended` emitted). */
export function settledOf(record: TaskRecord): Promise<void> {
  if (record.settled) return Promise.resolve();
  return new Promise((resolve) => record.endWaiters.push(resolve));
}

/**
 * The final snapshot once settled; rejects when `signal` aborts first. The aborted waiter is taken off the
 * record, so a long-running task does not collect dead waiters from tools that gave up.
 */
export function waitForSettled(record: TaskRecord, signal?: AbortSignal): Promise<TaskSnapshot> {
  if (record.settled) return Promise.resolve(toSnapshot(record));
  return new Promise<TaskSnapshot>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      record.endWaiters = record.endWaiters.filter((w) => w !== waiter);
      reject(abortError(signal as AbortSignal));
    };
    const waiter = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(toSnapshot(record));
    };
    record.endWaiters.push(waiter);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The wait was aborted.', 'AbortError');
}

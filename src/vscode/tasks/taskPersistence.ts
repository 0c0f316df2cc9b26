// Tasks of the last window come back: their snapshots live in workspaceState; running ones are taken over
// where their processes still run (manager.restore does that), finished ones return with their logs.
import * as vscode from 'vscode';
import type { TaskManager, TaskSnapshot, TaskStatus } from '../../core/tasks/types';

const STATE_KEY = 'backgroundAgent.tasks.v1';
/** Older tasks beyond this are dropped from the record: the list is for recent work, not an archive. */
export const MAX_PERSISTED_TASKS = 200;
const SAVE_DELAY_MS = 300;

const STATUSES: readonly TaskStatus[] = ['running', 'completed', 'failed', 'cancelled', 'timed_out', 'interrupted'];

/** Reads what the last window saved; ignores anything malformed (an older version, a hand-edited store). */
export function loadPersistedTasks(state: vscode.Memento): TaskSnapshot[] {
  const raw = state.get<unknown>(STATE_KEY);
  return Array.isArray(raw) ? raw.filter(isSnapshot) : [];
}

export function restorePersistedTasks(manager: TaskManager, state: vscode.Memento): number {
  const previous = loadPersistedTasks(state);
  // Also with nothing saved: restore() finds what earlier windows of this folder left running.
  manager.restore(previous);
  return previous.length;
}

/**
 * Saves the task list whenever a task starts, gets its pid, ends, is removed or has its log trimmed
 * (debounced), and once more on dispose. It must be current *before* a reload: what deactivate writes to
 * workspaceState is lost (code-server cancels it). A trim must be saved at once: a task restored without
 * its dropped range would show the trimmed part of its log as zeros.
 */
export function persistTasks(manager: TaskManager, state: vscode.Memento, log: vscode.LogOutputChannel): vscode.Disposable {
  let timer: NodeJS.Timeout | undefined;
  /** The pending save is the quick one (a task just became findable). */
  let soon = false;
  /** Where each task's dropped range ended when last seen: a trim moves it. */
  const trimmedTo = new Map<string, number>();
  const save = (): void => {
    timer = undefined;
    soon = false;
    const tasks = manager.list().slice(0, MAX_PERSISTED_TASKS);
    state.update(STATE_KEY, tasks).then(undefined, (error: unknown) => log.warn(`Could not save background tasks: ${String(error)}`));
  };
  const trimmed = (task: TaskSnapshot): boolean => {
    const to = task.droppedOutput?.to;
    if (to === undefined || trimmedTo.get(task.id) === to) return false;
    trimmedTo.set(task.id, to);
    return true;
  };
  /** Running tasks saved with what a later window needs to take them over (their pid comes a moment after `started`). */
  const findable = new Set<string>();
  const becameFindable = (task: TaskSnapshot): boolean => {
    if (task.reattach === undefined || findable.has(task.id)) return false;
    findable.add(task.id);
    return true;
  };
  const subscription = manager.onEvent((event) => {
    if (event.type === 'removed') trimmedTo.delete(event.taskId);
    else if (event.type === 'ended') findable.delete(event.task.id);
    // (A task Node spawns has its pid in its `started` event already; the launcher's come with `output`.)
    else if ((event.type === 'output' || event.type === 'started') && becameFindable(event.task)) {
      // A reload right now would lose a task not yet saved (and the next window would stop it as a
      // leftover): saved at the end of this turn, with every other task that got its pid in it.
      if (soon) return;
      soon = true;
      clearTimeout(timer);
      timer = setTimeout(save, 0);
      return;
    }
    // Byte counts are refreshed by the next start/end: a flood must not write storage on every output event.
    else if (event.type === 'output' && !trimmed(event.task)) return;
    if (!timer) timer = setTimeout(save, SAVE_DELAY_MS);
  });
  return new vscode.Disposable(() => {
    subscription.dispose();
    if (timer) {
      clearTimeout(timer);
      save();
    }
  });
}

function isSnapshot(value: unknown): value is TaskSnapshot {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const origin = v.origin as Record<string, unknown> | undefined;
  return (
    typeof v.id === 'string' &&
    typeof v.command === 'string' &&
    typeof v.cwd === 'string' &&
    typeof v.status === 'string' &&
    STATUSES.includes(v.status as TaskStatus) &&
    typeof v.startedAt === 'number' &&
    typeof v.outputBytes === 'number' &&
    typeof v.logPath === 'string' &&
    (v.exitCode === null || typeof v.exitCode === 'number') &&
    (v.droppedOutput === undefined || isRange(v.droppedOutput)) &&
    (v.reattach === undefined || isReattachInfo(v.reattach)) &&
    !!origin &&
    (origin.kind === 'agent' || origin.kind === 'user' || origin.kind === 'externalAgent')
  );
}

function isReattachInfo(value: unknown): boolean {
  const r = value as Record<string, unknown> | null;
  return !!r && typeof r.marker === 'string' && Number.isSafeInteger(r.startTicks);
}

function isRange(value: unknown): boolean {
  const r = value as Record<string, unknown> | null;
  return !!r && typeof r.from === 'number' && typeof r.to === 'number' && r.from <= r.to && (r.lostAt === undefined || typeof r.lostAt === 'number');
}

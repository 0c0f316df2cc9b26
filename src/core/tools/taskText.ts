// Shared wording for task results, so bash, check_background and cancel_background describe tasks alike.
import { formatDuration } from '../tasks/formatNotifications';
import type { TaskManager, TaskSnapshot } from '../tasks/types';
import { MAX_IDS_IN_ERROR } from './limits';
import { fail, type ToolResult } from './types';

export function describeStatus(task: TaskSnapshot): string {
  switch (task.status) {
    case 'running':
      return 'running';
    case 'completed':
      return 'completed (exit code 0)';
    case 'failed':
      if (task.error) return `failed: ${task.error}`;
      return task.exitCode === null ? `failed (killed by ${task.signal ?? 'a signal'})` : `failed (exit code ${task.exitCode})`;
    case 'cancelled':
      return 'cancelled';
    case 'timed_out':
      return `timed out after ${formatDuration(task.timeoutMs ?? 0)} and was killed`;
    case 'interrupted':
      return 'interrupted (the window closed while it ran)';
  }
}

export function durationOf(task: TaskSnapshot, now = Date.now()): string {
  return formatDuration((task.endedAt ?? now) - task.startedAt);
}

export function unknownTask(manager: TaskManager, taskId: string): ToolResult {
  const ids = manager.list().map((t) => t.id);
  if (ids.length === 0) return fail(`No background task has the id "${taskId}"; there are no background tasks.`);
  const shown = ids.slice(0, MAX_IDS_IN_ERROR).join(', ');
  const more = ids.length > MAX_IDS_IN_ERROR ? ` and ${ids.length - MAX_IDS_IN_ERROR} more` : '';
  return fail(`No background task has the id "${taskId}"; known task ids: ${shown}${more}.`);
}

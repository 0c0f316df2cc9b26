// Task results as the model reads them, so bash, check_background and cancel_background describe tasks alike
// (the words and units themselves come from src/shared/taskWords.ts, as everywhere else).
import { formatDuration, statusWord, taskDurationMs } from '../../shared/taskWords';
import type { TaskManager, TaskSnapshot } from '../tasks/types';
import { MAX_IDS_IN_ERROR } from './limits';
import { fail, type ToolResult } from './types';

export function describeStatus(task: TaskSnapshot): string {
  const word = statusWord(task.status);
  switch (task.status) {
    case 'running':
    case 'cancelled':
      return word;
    case 'completed':
      return `${word} (exit code 0)`;
    case 'failed':
      if (task.error) return `${word}: ${task.error}`;
      return task.exitCode === null ? `${word} (killed by ${task.signal ?? 'a signal'})` : `${word} (exit code ${task.exitCode})`;
    case 'timed_out':
      return `${word} after ${formatDuration(task.timeoutMs ?? 0)} and was killed`;
    case 'interrupted':
      return `${word} (the window closed while it ran)`;
  }
}

export function durationOf(task: TaskSnapshot, now = Date.now()): string {
  return formatDuration(taskDurationMs(task, now));
}

export function unknownTask(manager: TaskManager, taskId: string): ToolResult {
  const ids = manager.list().map((t) => t.id);
  if (ids.length === 0) return fail(`No background task has the id "${taskId}"; there are no background tasks.`);
  const shown = ids.slice(0, MAX_IDS_IN_ERROR).join(', ');
  const more = ids.length > MAX_IDS_IN_ERROR ? ` and ${ids.length - MAX_IDS_IN_ERROR} more` : '';
  return fail(`No background task has the id "${taskId}"; known task ids: ${shown}${more}.`);
}

// Words and clocks for a task's state, shared by the Background Tasks view and the chat's task chips so
// both say the same thing ("timed out", "1m 05s") about the same task. No DOM, no `vscode`.
import type { TaskStatus } from '../core/tasks/types';

const STATUS_WORDS: Record<TaskStatus, string> = {
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  timed_out: 'timed out',
  interrupted: 'interrupted',
};

export function statusWord(status: TaskStatus): string {
  return STATUS_WORDS[status];
}

/** Compact clock: `4s`, `1m 05s`, `2h 03m`. */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

function pad(n: number): string {
  return n.toString().padStart(2, '0');
}

// The one place where a task's state is put into words: its status word, how long it ran, how much output it
// has, its command on one line. The model's tool results and notifications, the CLI, the Background Tasks
// view, its output documents and the chat's task chips all take their words from here, so that they say the
// same thing about the same task ("timed out", "1m 05s", "1.5 KB") instead of each inventing its own units.
// Plain functions of plain values: no DOM, no `vscode`, no Node imports, so core, the CLI, the extension and
// the webview bundle can all import it.
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

/** A tool waits until the task is ready (background_run's `wait_for`, `wait_for_port`). */
export const WAITING_UNTIL_READY = 'waiting until ready';

/** The TCP ports a task listens on, short: `:5173 :24678`. */
export function portsShort(ports: readonly { readonly port: number }[] | undefined): string {
  return [...new Set((ports ?? []).map((p) => p.port))].map((port) => `:${port}`).join(' ');
}

/** Elapsed time while a task runs, its duration once it ended. `now` is passed in so that clocks can tick. */
export function taskDurationMs(task: { readonly startedAt: number; readonly endedAt?: number }, now: number): number {
  return Math.max(0, (task.endedAt ?? now) - task.startedAt);
}

/**
 * A duration as a compact clock: `0s`, `0.4s`, `59s`, `1m 05s`, `2h 03m`. Rounded down, so a clock that ticks
 * once a second never runs ahead; tenths only under a second, where whole seconds would all read `0s`.
 */
export function formatDuration(ms: number): string {
  const clamped = Math.max(0, ms);
  if (clamped < 1000) {
    const tenths = Math.floor(clamped / 100);
    return tenths === 0 ? '0s' : `0.${tenths}s`;
  }
  const total = Math.floor(clamped / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h ${pad(m)}m`;
  if (m > 0) return `${m}m ${pad(s)}s`;
  return `${s}s`;
}

/** The same clock read aloud, for screen readers: `1 minute 1 second`, `2 hours 3 minutes`. Whole seconds. */
export function spokenDuration(ms: number): string {
  const total = Math.floor(Math.max(0, ms) / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts: string[] = [];
  if (h) parts.push(`${h} ${h === 1 ? 'hour' : 'hours'}`);
  if (m) parts.push(`${m} ${m === 1 ? 'minute' : 'minutes'}`);
  if (s || parts.length === 0) parts.push(`${s} ${s === 1 ? 'second' : 'seconds'}`);
  return parts.join(' ');
}

/**
 * A size in 1024-byte units: `35 B`, `1.5 KB`, `64.0 KB`, `250 MB`, `1.0 GB`. One decimal below 100, none from
 * there on, so a size never takes more than four digits.
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${SIZE_UNITS[unit]}`;
}

const SIZE_UNITS = ['KB', 'MB', 'GB', 'TB'];

/** A multi-line command or description on one line (lists, notifications and the CLI are line-based). */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ⏎ ');
}

function pad(n: number): string {
  return n.toString().padStart(2, '0');
}

/** A token count, short: 41200 → "41k", 1500 → "1.5k" (the chat's meters, the CLI's compaction line). */
export function formatTokens(n: number): string {
  return n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}

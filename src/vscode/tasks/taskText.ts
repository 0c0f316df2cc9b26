// Plain-text wording for a task shown in VS Code (labels, descriptions, accessible names).
// No `vscode` import on purpose: these strings are the view's vocabulary, testable in plain Node.
import type { TaskOrigin, TaskSnapshot } from '../../core/tasks/types';
import { formatElapsed, statusWord } from '../../shared/taskWords';

/** A chat's title by its id (undefined when unknown): people know their chats by title, not by id. */
export type ChatTitleLookup = (conversationId: string) => string | undefined;

export { formatElapsed, statusWord };

export function isRunning(task: TaskSnapshot): boolean {
  return task.status === 'running';
}

/** The tree label: what the task is for (description) or else what it runs (command, first line). */
export function taskLabel(task: TaskSnapshot): string {
  const text = task.description?.trim() || task.command;
  return firstLine(text);
}

/** Elapsed time while running, duration once ended; `now` is passed in so the tree can tick. */
export function taskDurationMs(task: TaskSnapshot, now: number): number {
  return Math.max(0, (task.endedAt ?? now) - task.startedAt);
}

/** `running · 1m 05s`, `completed · exit 0 · 12s`, `failed · exit 2 · 3s`, `cancelled · 4s`. */
export function taskDescription(task: TaskSnapshot, now: number): string {
  const parts = [statusWord(task.status)];
  if (task.status === 'interrupted') {
    // The window closed while it ran: no trustworthy duration or exit code.
    return withOrigin(parts, task.origin);
  }
  if (task.exitCode !== null && task.status !== 'running') parts.push(`exit ${task.exitCode}`);
  else if (task.signal && task.status === 'failed') parts.push(task.signal);
  parts.push(formatElapsed(taskDurationMs(task, now)));
  // The agent is waiting on it in a bash call; if the wait times out it becomes a background task.
  if (task.foreground && task.status === 'running') parts.push('agent waiting');
  return withOrigin(parts, task.origin);
}

function withOrigin(parts: string[], origin: TaskOrigin): string {
  // Who started it is visible without hovering: the person's tasks say so; the agent's are the default.
  if (origin.kind === 'user') parts.push('you');
  return parts.join(' · ');
}

/** Screen readers hear the whole state in one sentence. */
export function taskAccessibleLabel(task: TaskSnapshot, now: number, titleOf?: ChatTitleLookup): string {
  const who = origin(task.origin, titleOf);
  const state =
    task.status === 'running'
      ? `running for ${spokenElapsed(taskDurationMs(task, now))}`
      : task.status === 'interrupted'
        ? 'interrupted when the window closed'
        : `${statusWord(task.status)}${task.exitCode !== null ? ` with exit code ${task.exitCode}` : ''} after ${spokenElapsed(taskDurationMs(task, now))}`;
  return `Background task ${taskLabel(task)}, ${state}, started by ${who}`;
}

export function origin(o: TaskOrigin, titleOf?: ChatTitleLookup): string {
  if (o.kind === 'agent') return `the agent (${chatName(o.conversationId, titleOf)})`;
  return o.conversationId ? `you (reported to ${chatName(o.conversationId, titleOf)})` : 'you';
}

/** `chat “Fix the tests”` when the title is known, else `chat <id>`. */
function chatName(conversationId: string, titleOf: ChatTitleLookup | undefined): string {
  const title = titleOf?.(conversationId)?.trim();
  return title ? `chat “${title}”` : `chat ${conversationId}`;
}

function spokenElapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts: string[] = [];
  if (h) parts.push(`${h} ${h === 1 ? 'hour' : 'hours'}`);
  if (m) parts.push(`${m} ${m === 1 ? 'minute' : 'minutes'}`);
  if (s || parts.length === 0) parts.push(`${s} ${s === 1 ? 'second' : 'seconds'}`);
  return parts.join(' ');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  return line.length < text.length ? `${line} …` : line;
}

/** The last `count` non-empty lines of a preview (which may start with a cut marker). */
export function lastLines(text: string, count: number): string {
  const lines = text.replace(/\s+$/, '').split(/\r?\n/);
  return lines.slice(-count).join('\n');
}

// Plain-text wording for a task shown in VS Code (labels, descriptions, accessible names), built from the
// words and units of src/shared/taskWords.ts. No `vscode` import on purpose: testable in plain Node.
import type { TaskOrigin, TaskSnapshot } from '../../core/tasks/types';
import { formatDuration, portsShort, spokenDuration, statusWord, taskDurationMs, WAITING_UNTIL_READY } from '../../shared/taskWords';

/** A chat's title by its id (undefined when unknown): people know their chats by title, not by id. */
export type ChatTitleLookup = (conversationId: string) => string | undefined;

export function isRunning(task: TaskSnapshot): boolean {
  return task.status === 'running';
}

/** The tree label: what the task is for (description) or else what it runs (command, first line). */
export function taskLabel(task: TaskSnapshot): string {
  const text = task.description?.trim() || task.command;
  return firstLine(text);
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
  parts.push(formatDuration(taskDurationMs(task, now)));
  if (task.status === 'running' && task.waitingUntilReady) parts.push(WAITING_UNTIL_READY);
  // The agent is waiting on it in a bash call; if the wait times out it becomes a background task.
  else if (task.foreground && task.status === 'running') parts.push('agent waiting');
  if (task.status === 'running' && task.ports?.length) parts.push(portsShort(task.ports));
  return withOrigin(parts, task.origin);
}

function withOrigin(parts: string[], origin: TaskOrigin): string {
  // Who started it is visible without hovering: the person's tasks and other agents' say so; ours are the default.
  if (origin.kind === 'user') parts.push('you');
  else if (origin.kind === 'externalAgent') parts.push('other agent');
  return parts.join(' · ');
}

/** Screen readers hear the whole state in one sentence. */
export function taskAccessibleLabel(task: TaskSnapshot, now: number, titleOf?: ChatTitleLookup): string {
  const who = origin(task.origin, titleOf);
  const state =
    task.status === 'running'
      ? `running for ${spokenDuration(taskDurationMs(task, now))}${task.waitingUntilReady ? `, ${WAITING_UNTIL_READY}` : ''}${
          task.ports?.length ? `, ${spokenPorts(task.ports)}` : ''
        }`
      : task.status === 'interrupted'
        ? 'interrupted when the window closed'
        : `${statusWord(task.status)}${task.exitCode !== null ? ` with exit code ${task.exitCode}` : ''} after ${spokenDuration(taskDurationMs(task, now))}`;
  return `Background task ${taskLabel(task)}, ${state}, started by ${who}`;
}

/** `listening on port 5173`, `listening on ports 5173, 24678` (a port on IPv4 and IPv6 is one port). */
function spokenPorts(ports: readonly { readonly port: number }[]): string {
  const unique = [...new Set(ports.map((p) => p.port))];
  return `listening on port${unique.length > 1 ? 's' : ''} ${unique.join(', ')}`;
}

export function origin(o: TaskOrigin, titleOf?: ChatTitleLookup): string {
  if (o.kind === 'agent') return `the agent (${chatName(o.conversationId, titleOf)})`;
  if (o.kind === 'externalAgent') return "another agent, through VS Code's language-model tools";
  return o.conversationId ? `you (reported to ${chatName(o.conversationId, titleOf)})` : 'you';
}

/** `chat “Fix the tests”` when the title is known, else `chat <id>`. */
function chatName(conversationId: string, titleOf: ChatTitleLookup | undefined): string {
  const title = titleOf?.(conversationId)?.trim();
  return title ? `chat “${title}”` : `chat ${conversationId}`;
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

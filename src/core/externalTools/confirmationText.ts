// What the person is shown when another agent's command needs their approval (VS Code's confirmation: a card
// in the caller's chat, or a modal dialog), and the progress line of each call. Markdown, built from text the
// caller chose (the command, its folder, the parts the policy picked out of it): every piece of it is quoted
// or escaped, so a command cannot turn into a link or a heading in front of the person.
import type { CommandRequest } from '../approval/approvalGate';
import type { ExternalToolName } from './externalTools';

export interface ConfirmationText {
  readonly title: string;
  /** Markdown. */
  readonly message: string;
}

export function runConfirmation(request: CommandRequest): ConfirmationText {
  const parts = request.parts.map((part) => `- ${inlineCode(part.text)}: ${escapeMarkdown(part.why)}`);
  return {
    title: 'Run a command in the background?',
    message: [
      'Another agent asks Background Agent to run this command in the background:',
      codeBlock(request.command),
      `Folder: ${inlineCode(request.cwd)}`,
      `Your Background Agent approval settings ask first, because:\n${parts.join('\n')}`,
      'It will show in Background Tasks, where you can watch and cancel it.',
    ].join('\n\n'),
  };
}

/** The progress line while a call runs (plain words; VS Code shows it in the caller's chat). */
export function invocationMessage(name: ExternalToolName, input: unknown): string {
  const field = (key: string): string | undefined => {
    const value = typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[key] : undefined;
    return typeof value === 'string' ? value : undefined;
  };
  const taskId = field('task_id');
  switch (name) {
    case 'background_run':
      return `Starting in the background: ${shorten(field('command') ?? '(no command)', 120)}`;
    case 'check_background':
      return taskId === undefined ? 'Listing background tasks' : `Checking background task ${shorten(taskId, 40)}`;
    case 'cancel_background':
      return `Cancelling background task ${shorten(taskId ?? '(no id)', 40)}`;
  }
}

/** A fenced block whose fence is longer than any run of backticks inside, so the text cannot close it. */
export function codeBlock(text: string): string {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(text) + 1));
  return `${fence}\n${text}\n${fence}`;
}

/** Inline code that holds any text (backticks included) on one line. */
export function inlineCode(text: string): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  const ticks = '`'.repeat(longestBacktickRun(flat) + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()<>#+\-.!|~]/g, '\\$&');
}

function longestBacktickRun(text: string): number {
  return Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
}

function shorten(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

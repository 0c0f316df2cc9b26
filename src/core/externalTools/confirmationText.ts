// What the person is asked when another agent's command needs their approval (our own modal dialog: VS Code's
// per-tool approvals cannot answer it for them), and the progress line of each call. Plain text built from what
// the caller chose (the command, its folder, the parts the policy picked out of it); characters that would hide
// or reorder what the person reads (bidirectional controls, zero-width ones) are shown escaped.
import type { CommandRequest } from '../approval/approvalGate';
import type { ExternalToolName } from './externalTools';

export interface CommandQuestion {
  readonly message: string;
  /** The dialog's detail text. */
  readonly detail: string;
}

export function commandQuestion(request: CommandRequest, description: string | undefined): CommandQuestion {
  const parts = request.parts.map((part) => `• ${visible(part.text)}: ${visible(part.why)}`);
  return {
    message: 'Another agent asks Background Agent to run a command in the background. Allow it?',
    detail: [
      `Command:\n${visible(request.command)}`,
      ...(description ? [`Described as: ${visible(description)}`] : []),
      `Folder: ${visible(request.cwd)}`,
      `Your Background Agent approval settings ask first, because:\n${parts.join('\n')}`,
      'It will show in Background Tasks, where you can watch and cancel it.',
    ].join('\n\n'),
  };
}

/** Bidirectional and invisible characters as `\u{…}`: what is shown is what runs. */
export function visible(text: string): string {
  return text.replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g, (ch) => `\\u{${ch.codePointAt(0)!.toString(16)}}`);
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

function shorten(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

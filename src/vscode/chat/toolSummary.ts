// One line that says what a tool call is about (its command, path or task), for the tool card.
import { oneLine } from '../../shared/taskWords';

const MAX_SUMMARY = 300;
/** Results beyond this are cut in the middle for the card; the model saw the full text. */
export const MAX_CARD_RESULT = 16_000;

function field(input: unknown, name: string): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const value = (input as Record<string, unknown>)[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

export function summarizeToolInput(name: string, input: unknown): string {
  let summary: string | undefined;
  switch (name) {
    case 'bash':
    case 'background_run':
      summary = field(input, 'command');
      break;
    case 'read_file':
    case 'write_file':
    case 'edit_file':
      summary = field(input, 'path');
      break;
    case 'check_background':
      summary = field(input, 'task_id') ?? 'all tasks';
      break;
    case 'cancel_background':
      summary = field(input, 'task_id');
      break;
  }
  summary ??= JSON.stringify(input) ?? '';
  const line = oneLine(summary);
  return line.length > MAX_SUMMARY ? `${line.slice(0, MAX_SUMMARY)}…` : line;
}

export function cutForCard(text: string): string {
  if (text.length <= MAX_CARD_RESULT) return text;
  const half = MAX_CARD_RESULT / 2;
  return `${text.slice(0, half)}\n… ${text.length - MAX_CARD_RESULT} characters not shown …\n${text.slice(-half)}`;
}

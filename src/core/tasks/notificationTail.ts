// The bounded output excerpt a notification carries, so the model sees how a task ended without an
// extra tool call. Built from memory (no file read), cleaned of terminal control sequences.
import type { HeadTailBuffer } from './outputBuffer';
import { decodeSlice } from './utf8Edges';

export const NOTIFICATION_TAIL_BYTES = 3 * 1024;
export const NOTIFICATION_TAIL_LINES = 40;
/** Starts a tail that is not the whole output. */
export const TAIL_CUT_PREFIX = '[... ';

// CSI (colours, cursor moves), OSC (titles, links) and single-character escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function notificationTail(buffer: HeadTailBuffer, taskId: string, maxBytes = NOTIFICATION_TAIL_BYTES, maxLines = NOTIFICATION_TAIL_LINES): string {
  const total = buffer.totalBytes;
  if (total === 0) return '';
  let bytes = buffer.lastBytes(maxBytes);
  // Keep the last `maxLines` lines (a trailing newline does not count as starting a line).
  let newlines = 0;
  for (let i = bytes.length - 2; i >= 0; i--) {
    if (bytes[i] === 0x0a && ++newlines === maxLines) {
      bytes = bytes.subarray(i + 1);
      break;
    }
  }
  const cutBytes = total - bytes.length;
  const { text, start } = decodeSlice(bytes, { trimStart: cutBytes > 0, trimEnd: false });
  const clean = cleanTerminalText(text);
  if (cutBytes + start === 0) return clean;
  return `${tailCutLine(taskId, `${cutBytes + start} earlier bytes`)}\n${clean}`;
}

/** The first line of a tail that is not the whole output: what is missing and how to read it. */
export function tailCutLine(taskId: string, what = 'earlier output'): string {
  return `${TAIL_CUT_PREFIX}${what} not shown; use check_background with task_id "${taskId}" and offset to read more ...]`;
}

/** Drops escape sequences and keeps what a terminal would finally show of lines redrawn with \r. */
export function cleanTerminalText(text: string): string {
  return text
    .replace(ANSI, '')
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      const trimmed = line.replace(/\r+$/, '');
      const cr = trimmed.lastIndexOf('\r');
      return cr >= 0 ? trimmed.slice(cr + 1) : trimmed;
    })
    .join('\n');
}

// The bounded output excerpt a notification carries, so the model sees how a task ended without an
// extra tool call. Built from memory (no file read), cleaned of terminal control sequences; binary output
// is only described (outputText.ts).
import type { HeadTailBuffer } from './outputBuffer';
import { binaryNote, looksBinary, readableTerminalText } from './outputText';
import { decodeSlice } from './utf8Edges';

export const NOTIFICATION_TAIL_BYTES = 3 * 1024;
export const NOTIFICATION_TAIL_LINES = 40;
/** Starts a tail that is not the whole output. */
export const TAIL_CUT_PREFIX = '[... ';

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
  // Binary output is described, not pasted: it would cost tokens and tell the model nothing.
  if (looksBinary(bytes.subarray(start))) return binaryNote(total);
  const clean = readableTerminalText(text);
  if (cutBytes + start === 0) return clean;
  return `${tailCutLine(taskId, `${cutBytes + start} earlier bytes`)}\n${clean}`;
}

/** The first line of a tail that is not the whole output: what is missing and how to read it. */
export function tailCutLine(taskId: string, what = 'earlier output'): string {
  return `${TAIL_CUT_PREFIX}${what} not shown; use check_background with task_id "${taskId}" and offset to read more ...]`;
}

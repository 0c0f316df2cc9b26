// What the model hears about ended tasks: the bounded output tail each notification carries, and the queue
// the notifications wait in until their conversation's next model call (resultsBlock.ts writes the text
// the loop injects before that call).
import { Emitter, type Disposable } from '../events';
import type { HeadTailBuffer } from './outputBuffer';
import { binaryNote, decodeSlice, looksBinary, readableTerminalText } from './outputText';
import type { NotificationSource, TaskNotification } from './types';

// ---- The output tail: how a task ended, without an extra tool call. Built from memory (no file read),
// cleaned of terminal control sequences; binary output is only described (outputText.ts).

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

// ---- The queue: ended-task notifications waiting for their conversation's next model call.

export class NotificationQueue implements NotificationSource {
  private readonly queues = new Map<string, TaskNotification[]>();
  private readonly queued = new Emitter<TaskNotification>();

  push(notification: TaskNotification): void {
    const queue = this.queues.get(notification.conversationId);
    if (queue) queue.push(notification);
    else this.queues.set(notification.conversationId, [notification]);
    this.queued.fire(notification);
  }

  drain(conversationId: string): TaskNotification[] {
    const queue = this.queues.get(conversationId) ?? [];
    this.queues.delete(conversationId);
    return queue;
  }

  pendingCount(conversationId: string): number {
    return this.queues.get(conversationId)?.length ?? 0;
  }

  queuedSpan(conversationId: string): { first: number; last: number } | undefined {
    const queue = this.queues.get(conversationId);
    if (!queue || queue.length === 0) return undefined;
    return { first: queue[0].queuedAt, last: queue[queue.length - 1].queuedAt };
  }

  onQueued(listener: (notification: TaskNotification) => void): Disposable {
    return this.queued.event(listener);
  }

  dispose(): void {
    this.queued.dispose();
    this.queues.clear();
  }
}

// What the model is told when a task ends: the notification for its conversation, or none.
import type { HeadTailBuffer } from './outputBuffer';
import { notificationTail } from './notificationTail';
import type { TaskRecord } from './taskRecord';
import type { TaskNotification } from './types';

/**
 * Undefined when nobody should hear of it: no conversation to tell, or a foreground task (its result goes
 * back through the tool that waited for it). `loadBuffer` gives the record's output; it is called only when
 * a notification is made, because for a restored task it reads the log.
 */
export function endNotification(record: TaskRecord, loadBuffer: () => HeadTailBuffer, tailBytes: number): TaskNotification | undefined {
  const conversationId = record.origin.conversationId;
  if (conversationId === undefined || record.foreground) return undefined;
  const buffer = loadBuffer();
  return {
    taskId: record.id,
    conversationId,
    status: record.status,
    exitCode: record.exitCode,
    durationMs: (record.endedAt ?? Date.now()) - record.startedAt,
    command: record.command,
    ...(record.description !== undefined && { description: record.description }),
    outputTail: notificationTail(buffer, record.id, tailBytes),
    outputBytes: buffer.totalBytes,
    queuedAt: Date.now(),
  };
}

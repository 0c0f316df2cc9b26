// Ended-task notifications waiting for their conversation's next model call.
import type { Disposable, NotificationSource, TaskNotification } from './types';
import { callListeners } from './listeners';

export class NotificationQueue implements NotificationSource {
  private readonly queues = new Map<string, TaskNotification[]>();
  private readonly listeners = new Set<(notification: TaskNotification) => void>();

  push(notification: TaskNotification): void {
    const queue = this.queues.get(notification.conversationId);
    if (queue) queue.push(notification);
    else this.queues.set(notification.conversationId, [notification]);
    callListeners(this.listeners, notification);
  }

  drain(conversationId: string): TaskNotification[] {
    const queue = this.queues.get(conversationId) ?? [];
    this.queues.delete(conversationId);
    return queue;
  }

  pendingCount(conversationId: string): number {
    return this.queues.get(conversationId)?.length ?? 0;
  }

  onQueued(listener: (notification: TaskNotification) => void): Disposable {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  dispose(): void {
    this.listeners.clear();
    this.queues.clear();
  }
}

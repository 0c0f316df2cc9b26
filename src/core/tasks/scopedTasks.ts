// The background tasks one kind of caller may start and see, as a TaskManager the tools can be given in
// place of the whole manager. Another extension's agent calling our tools through VS Code gets this view:
// every task it starts carries its origin, and it sees, reads and cancels only tasks of that origin, never
// the person's or our chats' (their commands, output and ids are none of its business). Any id outside the
// scope is answered as unknown, so a guessed id tells nothing either.
import type { Disposable } from '../events';
import {
  UnknownTaskError,
  type NotificationSource,
  type OutputSlice,
  type ReadyConditions,
  type ReadyOutcome,
  type StartTaskOptions,
  type TaskEvent,
  type TaskManager,
  type TaskOrigin,
  type TaskSnapshot,
} from './types';

/** A caller with no conversation of ours: nothing is ever queued for it, so there is nothing to keep. */
const NO_NOTIFICATIONS: NotificationSource = {
  drain: () => [],
  pendingCount: () => 0,
  queuedSpan: () => undefined,
  onQueued: () => ({ dispose: () => undefined }),
};

export class ScopedTaskManager implements TaskManager {
  readonly notifications: NotificationSource = NO_NOTIFICATIONS;

  /** `origin`: what every task started through this view carries; its kind is the scope. */
  constructor(
    private readonly manager: TaskManager,
    private readonly origin: TaskOrigin,
  ) {}

  get portsSupported(): boolean {
    return this.manager.portsSupported;
  }

  /** Whatever origin the caller's options name (a tool writes its own), the task is this scope's. */
  start(options: StartTaskOptions): TaskSnapshot {
    return this.manager.start({ ...options, origin: this.origin });
  }

  get(taskId: string): TaskSnapshot | undefined {
    const task = this.manager.get(taskId);
    return task && this.inScope(task) ? task : undefined;
  }

  list(): TaskSnapshot[] {
    return this.manager.list().filter((task) => this.inScope(task));
  }

  runningCount(conversationId: string): number {
    return this.list().filter((task) => task.status === 'running' && task.origin.conversationId === conversationId).length;
  }

  readOutput(taskId: string, options?: { offset?: number; maxBytes?: number }): Promise<OutputSlice> {
    return this.manager.readOutput(this.require(taskId), options);
  }

  outputPreview(taskId: string, maxBytes?: number): string {
    return this.manager.outputPreview(this.require(taskId), maxBytes);
  }

  cancel(taskId: string): Promise<TaskSnapshot> {
    return this.manager.cancel(this.require(taskId));
  }

  async cancelAll(): Promise<void> {
    await Promise.all(this.list().filter((task) => task.status === 'running').map((task) => this.manager.cancel(task.id)));
  }

  waitForEnd(taskId: string, signal?: AbortSignal): Promise<TaskSnapshot> {
    return this.manager.waitForEnd(this.require(taskId), signal);
  }

  waitUntilReady(taskId: string, conditions: ReadyConditions, signal?: AbortSignal): Promise<ReadyOutcome> {
    return this.manager.waitUntilReady(this.require(taskId), conditions, signal);
  }

  moveToBackground(taskId: string): TaskSnapshot | undefined {
    return this.get(taskId) && this.manager.moveToBackground(taskId);
  }

  remove(taskId: string): void {
    this.manager.remove(this.require(taskId));
  }

  /** Events of this scope's tasks only; a removal names an id the caller may never have seen, so it is left out. */
  onEvent(listener: (event: TaskEvent) => void): Disposable {
    return this.manager.onEvent((event) => {
      if (event.type !== 'removed' && this.inScope(event.task)) listener(event);
    });
  }

  /** What an earlier window left is the whole manager's to take back, not one caller's. */
  restore(): void {
    throw new Error('Tasks are restored by the manager itself, not through a scoped view.');
  }

  /** The view owns nothing: the manager outlives every caller. */
  dispose(): void {}

  private inScope(task: TaskSnapshot): boolean {
    return task.origin.kind === this.origin.kind;
  }

  private require(taskId: string): string {
    if (!this.get(taskId)) throw new UnknownTaskError(taskId);
    return taskId;
  }
}

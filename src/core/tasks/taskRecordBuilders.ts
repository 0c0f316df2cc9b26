// Builds the manager's TaskRecords: a fresh one for a start, and a finished one for a task an earlier
// window persisted. Kept apart so the manager reads as what it does with tasks, not how they are shaped.
import type { TaskRecord } from './taskRecord';
import type { StartTaskOptions, TaskSnapshot } from './types';

export interface NewRecordParts {
  readonly id: string;
  readonly logPath: string;
  /** `<instance>.<id>`: see TaskRecord.marker. */
  readonly marker: string;
}

/** A task that is about to be spawned: running, no pid yet, no output. */
export function newTaskRecord(options: StartTaskOptions, parts: NewRecordParts): TaskRecord {
  return {
    id: parts.id,
    command: options.command,
    ...(options.description !== undefined && { description: options.description }),
    cwd: options.cwd,
    origin: options.origin,
    ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
    ...(options.foreground !== undefined && { foreground: options.foreground }),
    ...(options.cwdEntry !== undefined && { cwdEntry: options.cwdEntry }),
    logPath: parts.logPath,
    startedAt: Date.now(),
    marker: parts.marker,
    status: 'running',
    exitCode: null,
    signal: null,
    outputBytes: 0,
    endWaiters: [],
  };
}

/**
 * A task from an earlier window. It is settled already (nothing of it runs under us), has no marker (its
 * processes are not ours to kill) and no buffer (loaded from its log on first use).
 */
export function restoredTaskRecord(snapshot: TaskSnapshot): TaskRecord {
  const wasRunning = snapshot.status === 'running';
  return {
    id: snapshot.id,
    command: snapshot.command,
    ...(snapshot.description !== undefined && { description: snapshot.description }),
    cwd: snapshot.cwd,
    origin: snapshot.origin,
    ...(snapshot.timeoutMs !== undefined && { timeoutMs: snapshot.timeoutMs }),
    logPath: snapshot.logPath,
    startedAt: snapshot.startedAt,
    marker: '',
    ...(snapshot.pid !== undefined && { pid: snapshot.pid }),
    status: wasRunning ? 'interrupted' : snapshot.status,
    exitCode: snapshot.exitCode,
    signal: snapshot.signal,
    ...(snapshot.endedAt !== undefined && { endedAt: snapshot.endedAt }),
    error: wasRunning ? 'The window closed or reloaded while this task ran.' : snapshot.error,
    outputBytes: snapshot.outputBytes,
    ...(snapshot.droppedOutput !== undefined && { dropped: snapshot.droppedOutput }),
    endWaiters: [],
    settled: true,
  };
}

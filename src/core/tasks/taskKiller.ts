// Killing tasks' process trees: on cancel or timeout (graceful, awaited), after a task's shell exited but
// left processes behind, and at shutdown (SIGKILL, synchronous). The manager decides *when*; this module
// knows *how* and what "gone" means for a record.
import { settledOf } from './endWaiters';
import { killTreesNow, terminateTrees, type KillTarget, type ProcessResult } from './processRunner';
import type { TaskRecord } from './taskRecord';

/** After the tree is gone, how long the shell's exit event may take before we stop waiting for it. */
const END_AFTER_KILL_MS = 1000;

export interface KillContext {
  /** Time between SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
  /** Aborted on dispose: stops kill loops that are still watching processes die. */
  readonly lifetime: AbortSignal;
  /** Ends tasks that are still waiting in the spawn queue: there is nothing to kill, they simply end. */
  readonly endQueued: (queued: ReadonlySet<TaskRecord>) => void;
}

/** Kills the trees and resolves once every process is gone and each task has ended. */
export async function killTasks(records: readonly TaskRecord[], context: KillContext): Promise<void> {
  const queued = new Set(records.filter((r) => r.status === 'running' && r.process === undefined));
  if (queued.size > 0) context.endQueued(queued);
  // A task already being killed waits on the kill in progress instead of starting a second one.
  const fresh = records.filter((r) => r.status === 'running' && !r.killing);
  if (fresh.length > 0) {
    const killing = terminateTrees(
      fresh.flatMap((r) => (r.pid === undefined ? [] : [{ pid: r.pid, marker: r.marker }])),
      context.killGraceMs,
      context.lifetime,
    );
    for (const record of fresh) record.killing = killing;
  }
  await Promise.all(records.map(async (record) => {
    await record.killing;
    if (record.settled) return;
    // The tree is gone; the shell's exit event is normally already on its way.
    const ended = settledOf(record);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_AFTER_KILL_MS)));
    await Promise.race([ended, late]);
    clearTimeout(timer);
    if (record.status === 'running') record.process?.detach();
  }));
}

/**
 * The shell exited on its own but left processes behind (`cmd &` stays in its group; a `setsid` one
 * shows itself by holding the pipe): they must not outlive the task. Checked cheaply first, because
 * hundreds of tasks may end at once and a full search reads all of /proc.
 */
export function killLeftovers(record: TaskRecord, result: ProcessResult, context: KillContext): void {
  if (!record.killReason && record.pid !== undefined && (result.pipeHeldOpen || groupExists(record.pid))) {
    void terminateTrees([{ pid: record.pid, marker: record.marker }], context.killGraceMs, context.lifetime);
  }
}

/** Kills every one of our tasks' whole trees at once (SIGKILL, synchronous), so none outlives this process. */
export function killAllNow(records: Iterable<TaskRecord>): void {
  const targets: KillTarget[] = [];
  for (const record of records) {
    if (!record.marker) continue; // restored: not ours
    // A finished task's pid may belong to someone else by now; its marker still finds escaped descendants.
    targets.push(record.status === 'running' && record.pid !== undefined ? { pid: record.pid, marker: record.marker } : { marker: record.marker });
  }
  killTreesNow(targets);
}

function groupExists(pgid: number): boolean {
  if (process.platform === 'win32') return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

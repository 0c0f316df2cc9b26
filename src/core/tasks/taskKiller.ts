// Killing tasks' process trees: on cancel or timeout (graceful, awaited), after a task's shell exited but
// left processes behind, and at shutdown (SIGKILL, synchronous). The manager decides *when*; this module
// knows *how* and what "gone" means for a record.
import { platform } from '../platform';
import { processTable } from './processTable';
import { killTreesNow, terminateTrees, type KillTarget } from './processTree';
import type { Task } from './task';

/** After the tree is gone, how long the shell's exit event may take before we stop waiting for it. */
const END_AFTER_KILL_MS = 1000;
/** How long a cancel waits for the pid of a task the launcher is still starting. */
const PID_WAIT_MS = 3000;
/** The search for processes ended tasks left behind runs once no task ended for this long... */
const SWEEP_QUIET_MS = 1000;
/** ...or at the latest this long after the first end it covers. */
const SWEEP_MAX_WAIT_MS = 5000;

export interface KillContext {
  /** Time between SIGTERM and SIGKILL. */
  readonly killGraceMs: number;
  /** Aborted on dispose: stops kill loops that are still watching processes die. */
  readonly lifetime: AbortSignal;
  /** Ends tasks that are still waiting in the spawn queue: there is nothing to kill, they simply end. */
  readonly endQueued: (queued: ReadonlySet<Task>) => void;
}

/** Kills in progress: a task already being killed waits on that kill instead of starting a second one. */
const killing = new WeakMap<Task, Promise<void>>();

/** Kills the trees and resolves once every process is gone and each task has ended. */
export async function killTasks(records: readonly Task[], context: KillContext): Promise<void> {
  const queued = new Set(records.filter((r) => r.running && r.process === undefined));
  if (queued.size > 0) context.endQueued(queued);
  const fresh = records.filter((r) => r.running && !killing.has(r));
  if (fresh.length > 0) {
    const kill = (async () => {
      // A task the launcher is starting right now: its pid is a moment away, and killing by marker alone
      // could miss a process that does not exist yet.
      // At most PID_WAIT_MS: a start stuck in a hung folder (network mount) must not hang the cancel;
      // the marker search below still finds whatever did start.
      await atMost(Promise.all(fresh.map((r) => r.process?.started)), PID_WAIT_MS);
      const targets = fresh.flatMap((r) => (!r.running ? [] : [{ pid: r.pid, pidStart: r.pidStartTicks, marker: r.marker, startedAt: r.startedAt }]));
      await terminateTrees(targets, context.killGraceMs, context.lifetime);
    })();
    for (const record of fresh) killing.set(record, kill);
  }
  await Promise.all(records.map(async (record) => {
    await killing.get(record);
    if (record.settled) return;
    // The tree is gone; the shell's exit event is normally already on its way.
    await atMost(record.whenSettled(), END_AFTER_KILL_MS);
    if (record.running) record.process?.detach();
  }));
}

/**
 * The shell exited on its own but may have left processes behind: `cmd &` stays in its process group
 * (checked at once, cheaply, where there are groups); a `setsid` or double-forked one only carries the
 * task's marker, found by reading processes' environments (/proc, `ps -E`); on Windows, where neither
 * exists, an orphan still names the shell as its parent (killPlan.ts findMembers). That search costs CPU
 * the running tasks need (measured: 50-150 ms later completion for 200 tasks ending together), so it
 * waits until ends have been quiet for a moment and covers every task that ended meanwhile.
 */
export class LeftoverSweeper {
  private readonly pending: KillTarget[] = [];
  /** Leftovers were born after their task's shell: processes with lower pids need no look (see ProcessTableSource.marked). */
  private lowestPid = Number.POSITIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private firstPendingAt = 0;

  constructor(private readonly context: KillContext) {}

  check(record: Task): void {
    if (record.killReason) return;
    if (record.pid !== undefined && groupExists(record.pid)) {
      // The group still exists, so its id is still this task's (a group's id is not reused while it lives).
      void terminateTrees([{ pid: record.pid, marker: record.marker, startedAt: record.startedAt }], this.context.killGraceMs, this.context.lifetime);
      return;
    }
    if (this.pending.length === 0) this.firstPendingAt = Date.now();
    this.pending.push({ pid: record.pid, marker: record.marker, startedAt: record.startedAt, endedAt: record.endedAt ?? Date.now() });
    // No pid (the launcher was lost before reporting it): every process is a candidate.
    this.lowestPid = Math.min(this.lowestPid, record.pid ?? 0);
    clearTimeout(this.timer);
    const wait = Math.min(SWEEP_QUIET_MS, this.firstPendingAt + SWEEP_MAX_WAIT_MS - Date.now());
    this.timer = setTimeout(() => void this.sweep(), Math.max(0, wait)).unref();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.pending.length = 0;
  }

  private async sweep(): Promise<void> {
    this.timer = undefined;
    const targets = this.pending.splice(0);
    const lowestPid = this.lowestPid;
    this.lowestPid = Number.POSITIVE_INFINITY;
    try {
      // Where markers can be read, one cheap search first: most ends leave nothing.
      if (platform.readsMarkers) {
        const found = await processTable.marked(new Set(targets.map((t) => t.marker)), lowestPid);
        if (found.size === 0) return;
      }
      if (!this.context.lifetime.aborted) await terminateTrees(targets, this.context.killGraceMs, this.context.lifetime);
    } catch {
      // The table cannot be read: nothing more we can do for these.
    }
  }
}

/** Kills every one of our tasks' whole trees at once (SIGKILL, synchronous), so none outlives this process. */
export function killAllNow(records: Iterable<Task>): void {
  const targets: KillTarget[] = [];
  for (const record of records) {
    if (!record.marker) continue; // restored: not ours
    // A finished task's pid may belong to someone else by now: only its marker (or, on Windows, its shell's
    // orphans born while it ran) still finds escaped descendants.
    const ended = record.running ? {} : { endedAt: record.endedAt ?? Date.now() };
    targets.push({ pid: record.pid, pidStart: record.pidStartTicks, marker: record.marker, startedAt: record.startedAt, ...ended });
  }
  killTreesNow(targets);
}

function groupExists(pgid: number): boolean {
  if (platform.kills !== 'signals') return false;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits for `work`, but no longer than `ms`. */
async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

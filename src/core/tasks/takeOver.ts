// Taking over the running tasks an earlier window of this log folder left (ownerGuard.ts says how they
// stay alive meanwhile). At restore, each earlier owner's record is judged: it still owns its tasks
// (another window), its guard waits out the grace (its tasks can be taken over), or its guard is gone
// (it stopped the tasks, found none left, or the machine restarted). Each running task is then followed
// (it runs, or its exit file tells how it ended) or shown `interrupted`. A take-over is claimed first
// (the guard claims too before it stops anything: whoever is first decides); then our guard assumes the
// earlier guard's duties, that guard stands down, and what nobody follows is killed: found by marker,
// started after its owner on this boot, never by pid alone.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  bootId,
  claim,
  claimDir,
  forgetHost,
  HOSTS_FOLDER,
  instanceOf,
  isGuard,
  readRecord,
  standDown,
  stillRuns,
  type HostRecord,
  type OwnerGuard,
  type ProcessId,
} from './ownerGuard';
import { platform } from '../platform';
import { processTable } from './processTable';
import { terminateTrees } from './processTree';
import type { TaskSnapshot } from './types';

/** What became of an earlier owner of this log folder. */
export type EarlierHost =
  /** It still owns its tasks: another window of this folder. Not ours to take (yet). */
  | { readonly state: 'live'; readonly record: HostRecord }
  /** It is gone (or let its tasks go) and its guard waits out the grace: its tasks can be taken over. */
  | { readonly state: 'guarded'; readonly record: HostRecord }
  /** Its guard is gone or decided (it stopped the tasks at `stoppedAt`, found none left, or the machine restarted). */
  | { readonly state: 'gone'; readonly record: HostRecord; readonly stoppedAt?: number };

/** What to do with one running task of an earlier window. */
export type Resumption = { readonly follow: ProcessId } | { readonly interrupted: string };

const WINDOW_CLOSED = 'The window closed or reloaded while this task ran.';
const STOPPED = 'Stopped: its window closed and no window of this folder took it over in time.';
/** While an earlier window still owns tasks we follow, how often to look whether it let them go. */
const LIVE_OWNER_POLL_MS = 500;
const PREFERENCE: Record<EarlierHost['state'], number> = { live: 0, guarded: 1, gone: 2 };

/**
 * One restore's take-over of the running tasks earlier windows of this log folder left: decides per task,
 * then completes (guards, stands down, kills leftovers). Disposed with the manager (it may still wait for
 * an owner to let its tasks go).
 */
export class TakeOver {
  /** Earlier owners by their own instance, and who guards each instance's tasks. */
  private readonly hosts = new Map<string, EarlierHost>();
  private readonly guardOf = new Map<string, EarlierHost>();
  /** The tasks we follow, by the instance of the owner whose guard guarded them. */
  private readonly followed = new Map<string, ProcessId[]>();
  /** Markers of the tasks we follow (their processes are ours now, never leftovers). */
  private readonly keep = new Set<string>();
  private liveTimer: NodeJS.Timeout | undefined;

  /** `guard`: this window's guard, started on first need (undefined where none can run). */
  constructor(
    private readonly logDir: string,
    ownInstance: string,
    private readonly guard: () => OwnerGuard | undefined,
  ) {
    for (const record of readRecords(logDir)) if (record.instance !== ownInstance) this.hosts.set(record.instance, judge(logDir, record));
    this.indexGuards();
  }

  /** `exitPath`: the task's exit file (TaskLog.exitPath). */
  decide(snapshot: TaskSnapshot, exitPath: string): Resumption {
    const info = snapshot.reattach;
    if (!info || snapshot.pid === undefined || platform.guard === undefined) return { interrupted: WINDOW_CLOSED };
    const id = { pid: snapshot.pid, startTicks: info.startTicks };
    let host = this.guardOf.get(instanceOf(info.marker));
    // Claimed only with a guard of our own to take the duties over (else the earlier guard keeps them and
    // stops the tasks after its grace: shown, never orphaned). The guard about to stop them may claim first.
    if (host?.state === 'guarded' && !this.followed.has(host.record.instance) && this.guard() && !claim(this.logDir, host.record.instance)) {
      host = this.markGone(host.record);
    }
    if (host && host.state !== 'gone') {
      // Followed even if it seems gone: its exit file may be a moment behind (AttachedProcess waits for it).
      const roots = this.followed.get(host.record.instance) ?? [];
      if (host.record.bootId === bootId() && stillRuns(id)) roots.push(id);
      this.followed.set(host.record.instance, roots);
      this.keep.add(info.marker);
      return { follow: id };
    }
    // Its window's guard is gone: the task ended before the tasks were stopped (a real exit status),
    // or was stopped, or the machine restarted. (File times are as coarse as the kernel's clock tick:
    // an exit in the same tick as the claim counts as stopped.)
    const ended = statSync(exitPath, { throwIfNoEntry: false });
    if (ended && (host?.stoppedAt === undefined || ended.mtimeMs < host.stoppedAt)) return { follow: id };
    return { interrupted: host?.stoppedAt === undefined ? WINDOW_CLOSED : STOPPED };
  }

  /**
   * After every decision: our guard assumes the duties of each guard whose tasks we follow (`guard` is
   * called only then), those guards stand down, and what nobody follows is killed. A guard none of whose
   * tasks we follow ends them itself within its grace.
   */
  complete(killGraceMs: number): void {
    const done: HostRecord[] = [];
    const live: HostRecord[] = [];
    for (const host of this.hosts.values()) {
      const followed = this.followed.has(host.record.instance);
      if (host.state === 'live' && followed) live.push(host.record);
      else if (followed) done.push(this.takeDuties(host.record));
      else if (host.state === 'gone') done.push(host.record);
    }
    this.endLeftovers(done, killGraceMs);
    if (live.length > 0) this.waitForOwners(live, killGraceMs);
  }

  dispose(): void {
    clearInterval(this.liveTimer);
  }

  private indexGuards(): void {
    this.guardOf.clear();
    for (const host of this.hosts.values()) {
      for (const { instance } of host.record.guards) {
        const known = this.guardOf.get(instance);
        // After a take-over that died half-way two records may name one instance: the one alive wins.
        if (!known || PREFERENCE[host.state] < PREFERENCE[known.state]) this.guardOf.set(instance, host);
      }
    }
  }

  private markGone(record: HostRecord): EarlierHost {
    const host = judge(this.logDir, record);
    this.hosts.set(record.instance, host);
    this.indexGuards();
    return host;
  }

  /**
   * Our guard watches the earlier guard's instances and the tasks we follow, then that guard stands down.
   * Without a guard of our own it is left to do its work: the tasks are stopped after its grace, never orphaned.
   */
  private takeDuties(record: HostRecord): HostRecord {
    const ours = this.guard();
    if (!ours) return record;
    for (const guarded of record.guards) ours.watch(guarded);
    for (const root of this.followed.get(record.instance) ?? []) ours.track(root);
    standDown(record);
    return record;
  }

  private endLeftovers(records: HostRecord[], killGraceMs: number): void {
    if (records.length === 0) return;
    void killLeftovers(records, this.keep, killGraceMs)
      .catch(() => 0)
      .then(() => records.forEach((record) => forgetHost(this.logDir, record.instance)));
  }

  /** Another window still owns tasks we show: once it lets them go (or dies), they are ours. */
  private waitForOwners(records: HostRecord[], killGraceMs: number): void {
    let waiting = records;
    this.liveTimer = setInterval(() => {
      const freed = waiting.flatMap((record) => {
        const now = readRecords(this.logDir).find((r) => r.instance === record.instance) ?? record;
        return judge(this.logDir, now).state === 'live' ? [] : [now];
      });
      if (freed.length === 0) return;
      waiting = waiting.filter((record) => !freed.some((r) => r.instance === record.instance));
      if (waiting.length === 0) clearInterval(this.liveTimer);
      const claimed = freed.filter((record) => this.guard() !== undefined && claim(this.logDir, record.instance));
      this.endLeftovers(claimed.map((record) => this.takeDuties(record)), killGraceMs);
    }, LIVE_OWNER_POLL_MS);
    this.liveTimer.unref();
  }
}

function readRecords(logDir: string): HostRecord[] {
  if (platform.guard === undefined) return [];
  const folder = join(logDir, HOSTS_FOLDER);
  try {
    return readdirSync(folder)
      .filter((name) => name.endsWith('.json'))
      .flatMap((name) => readRecord(join(folder, name)) ?? []);
  } catch {
    return [];
  }
}

function judge(logDir: string, record: HostRecord): EarlierHost {
  const sameBoot = record.bootId === bootId();
  // Claimed by a window that took the tasks over (whose own record guards them now), or by the guard,
  // which leaves `stopped` in it before it stops anything.
  const claimed = claimDir(logDir, record.instance);
  if (statSync(claimed, { throwIfNoEntry: false })) {
    const stopped = statSync(join(claimed, 'stopped'), { throwIfNoEntry: false });
    return { state: 'gone', record, ...(stopped && { stoppedAt: stopped.mtimeMs }) };
  }
  if (sameBoot && stillRuns(record.owner) && !record.released) return { state: 'live', record };
  if (sameBoot && isGuard(record)) return { state: 'guarded', record };
  return { state: 'gone', record };
}

/**
 * Kills what earlier owners left running that nobody takes over: processes carrying a marker of an
 * instance their guards guarded (but none of `keep`), started on the same boot since that instance's
 * owner. Resolves once they are gone.
 */
async function killLeftovers(records: readonly HostRecord[], keep: ReadonlySet<string>, graceMs: number): Promise<number> {
  const since = new Map(records.filter((r) => r.bootId === bootId()).flatMap((r) => r.guards.map((g) => [g.instance, g.since] as const)));
  if (since.size === 0) return 0;
  const marked = await processTable.marked((marker) => since.has(instanceOf(marker)) && !keep.has(marker));
  if (marked.size === 0) return 0;
  const table = await processTable.read();
  const targets = [...marked].flatMap(([pid, marker]) => {
    const from = since.get(instanceOf(marker));
    const info = table.get(pid);
    return from !== undefined && info && info.startTicks >= from ? [{ pid, pidStart: info.startTicks, marker }] : [];
  });
  await terminateTrees(targets, graceMs);
  return targets.length;
}

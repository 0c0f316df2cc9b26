// Taking over the running tasks an earlier window of this log folder left (ownerGuard.ts says how they
// stay alive meanwhile). At restore, each earlier instance's record is judged: its owner still runs
// (another window, or one still closing), its guard waits out the grace (its tasks can be taken over), or
// both are gone (the guard stopped the tasks, or the machine restarted). Each running task is then
// followed (it runs, or its exit file tells how it ended) or shown `interrupted`, our guard watches what
// we follow, the earlier guards stand down, and what nobody follows is killed: found by marker, started
// after its owner on this boot, never by pid alone.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bootId, forgetHost, HOSTS_FOLDER, instanceOf, isGuard, readRecord, standDown, stillRuns, stoppedFile, type HostRecord, type OwnerGuard, type ProcessId } from './ownerGuard';
import { findMarkedProcesses, hasProcFs, readMarker, readProcess, terminateTrees } from './processTree';
import type { ReattachInfo, TaskSnapshot } from './types';

/** What became of an earlier instance of this log folder. */
export type EarlierHost =
  /** Its owner still runs: another window of this folder, or one still closing. Not ours to touch. */
  | { readonly state: 'live'; readonly record: HostRecord }
  /** Its owner is gone and its guard waits out the grace: its tasks can be taken over. */
  | { readonly state: 'guarded'; readonly record: HostRecord }
  /** Its guard is gone too (it stopped the tasks at `stoppedAt`, found none, or the machine restarted). */
  | { readonly state: 'gone'; readonly record: HostRecord; readonly stoppedAt?: number };

/** The earlier instances' records in `logDir`, judged now, by the record's own instance. */
export function earlierHosts(logDir: string, ownInstance: string): Map<string, EarlierHost> {
  const hosts = new Map<string, EarlierHost>();
  if (!hasProcFs) return hosts;
  const folder = join(logDir, HOSTS_FOLDER);
  let names: string[];
  try {
    names = readdirSync(folder).filter((name) => name.endsWith('.json'));
  } catch {
    return hosts;
  }
  for (const name of names) {
    const record = readRecord(join(folder, name));
    if (!record || record.instance === ownInstance) continue;
    hosts.set(record.instance, judge(logDir, record));
  }
  return hosts;
}

const PREFERENCE: Record<EarlierHost['state'], number> = { live: 0, guarded: 1, gone: 2 };

/**
 * Who guards each instance's tasks: the record naming it in `guards`. After a take-over that died
 * half-way two records may name one; the one still alive wins.
 */
function guardsByInstance(hosts: Iterable<EarlierHost>): Map<string, EarlierHost> {
  const byInstance = new Map<string, EarlierHost>();
  for (const host of hosts) {
    for (const { instance } of host.record.guards) {
      const known = byInstance.get(instance);
      if (!known || PREFERENCE[host.state] < PREFERENCE[known.state]) byInstance.set(instance, host);
    }
  }
  return byInstance;
}

function judge(logDir: string, record: HostRecord): EarlierHost {
  const sameBoot = record.bootId === bootId();
  if (sameBoot && stillRuns(record.owner)) return { state: 'live', record };
  // Written when the guard begins to kill: from then on its tasks are going, whether it still runs or not.
  const stopped = statSync(stoppedFile(logDir, record.instance), { throwIfNoEntry: false });
  if (sameBoot && !stopped && isGuard(record)) return { state: 'guarded', record };
  return { state: 'gone', record, ...(stopped && { stoppedAt: stopped.mtimeMs }) };
}

/**
 * Kills what earlier owners left running that nobody takes over: processes carrying a marker of an
 * instance their guards guarded (but none of `keep`), started on the same boot since that instance's
 * owner. Resolves once they are gone.
 */
async function killLeftovers(records: readonly HostRecord[], keep: ReadonlySet<string>, graceMs: number): Promise<number> {
  const since = new Map(records.filter((r) => r.bootId === bootId()).flatMap((r) => r.guards.map((g) => [g.instance, g.since] as const)));
  if (since.size === 0) return 0;
  const pids = await findMarkedProcesses((marker) => since.has(instanceOf(marker)) && !keep.has(marker));
  const targets = pids.flatMap((pid) => {
    const marker = readMarker(pid);
    const from = marker === undefined ? undefined : since.get(instanceOf(marker));
    const info = readProcess(pid);
    return marker && from !== undefined && info && info.startTicks >= from ? [{ pid, marker }] : [];
  });
  await terminateTrees(targets, graceMs);
  return targets.length;
}

const WINDOW_CLOSED = 'The window closed or reloaded while this task ran.';
/** While an earlier window's owner still runs (still closing), how often to look whether it is gone. */
const LIVE_OWNER_POLL_MS = 500;

/** What to do with one running task of an earlier window. */
export type Resumption = { readonly follow: ProcessId } | { readonly interrupted: string };

/**
 * One restore's take-over of the running tasks earlier windows of this log folder left (see the top of
 * this file): decides per task, then makes our guard watch what we follow, stands the earlier guards down
 * and kills what nobody follows. Disposed with the manager (it may still wait for an owner to be gone).
 */
export class TakeOver {
  /** Earlier owners by their own instance, and who guards each instance's tasks. */
  private readonly hosts: Map<string, EarlierHost>;
  private readonly guardOf: Map<string, EarlierHost>;
  /** Owners (by instance) some of whose tasks we follow: their guards' duties become ours. */
  private readonly followed = new Set<string>();
  /** Markers of the tasks we follow (their processes are ours now, never leftovers). */
  private readonly keep = new Set<string>();
  private liveTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logDir: string,
    ownInstance: string,
  ) {
    this.hosts = earlierHosts(logDir, ownInstance);
    this.guardOf = guardsByInstance(this.hosts.values());
  }

  /** `exitPath`: the task's exit file (TaskLog.exitPath). */
  decide(snapshot: TaskSnapshot, exitPath: string): Resumption {
    const info: ReattachInfo | undefined = snapshot.reattach;
    if (!info || snapshot.pid === undefined || !hasProcFs) return { interrupted: WINDOW_CLOSED };
    const host = this.guardOf.get(instanceOf(info.marker));
    const id = { pid: snapshot.pid, startTicks: info.startTicks };
    const runs = host?.record.bootId === bootId() && stillRuns(id) && readMarker(id.pid) === info.marker;
    if (host && host.state !== 'gone') {
      if (!runs && !existsSync(exitPath)) return { interrupted: 'It ended while no window followed it, and its exit status was lost.' };
      this.followed.add(host.record.instance);
      this.keep.add(info.marker);
      return { follow: id };
    }
    // Its window's guard is gone: it ended before the guard stopped the tasks (a real exit status), or
    // the guard stopped it, or the machine restarted.
    // (File times are as coarse as the kernel's clock tick: an exit in the same tick counts as stopped.)
    const ended = statSync(exitPath, { throwIfNoEntry: false });
    if (ended && (host?.stoppedAt === undefined || ended.mtimeMs < host.stoppedAt)) return { follow: id };
    return { interrupted: host?.stoppedAt === undefined ? WINDOW_CLOSED : 'Stopped: its window closed and no window of this folder took it over in time.' };
  }

  /**
   * After every decision: our guard takes over the duties of each guard whose tasks we follow (`guard` is
   * called only then), those guards stand down, and what nobody follows is killed. A guard none of whose
   * tasks we follow ends them itself within its grace.
   */
  complete(guard: () => OwnerGuard | undefined, killGraceMs: number): void {
    const done: HostRecord[] = [];
    const live: HostRecord[] = [];
    for (const host of this.hosts.values()) {
      const followed = this.followed.has(host.record.instance);
      if (host.state === 'live' && followed) live.push(host.record);
      else if (followed) done.push(this.takeDuties(host.record, guard));
      else if (host.state === 'gone') done.push(host.record);
    }
    this.endLeftovers(done, killGraceMs);
    // An owner still closing (a reload's old extension host) keeps its guard until it is gone.
    if (live.length > 0) this.waitForOwners(live, guard, killGraceMs);
  }

  dispose(): void {
    clearInterval(this.liveTimer);
  }

  private takeDuties(record: HostRecord, guard: () => OwnerGuard | undefined): HostRecord {
    for (const guarded of record.guards) guard()?.watch(guarded);
    standDown(record);
    return record;
  }

  private endLeftovers(records: HostRecord[], killGraceMs: number): void {
    if (records.length === 0) return;
    void killLeftovers(records, this.keep, killGraceMs)
      .catch(() => 0)
      .then(() => records.forEach((record) => forgetHost(this.logDir, record.instance)));
  }

  private waitForOwners(records: HostRecord[], guard: () => OwnerGuard | undefined, killGraceMs: number): void {
    let waiting = records;
    this.liveTimer = setInterval(() => {
      const gone = waiting.filter((record) => !stillRuns(record.owner));
      if (gone.length === 0) return;
      waiting = waiting.filter((record) => !gone.includes(record));
      if (waiting.length === 0) clearInterval(this.liveTimer);
      this.endLeftovers(gone.map((record) => this.takeDuties(record, guard)), killGraceMs);
    }, LIVE_OWNER_POLL_MS);
    this.liveTimer.unref();
  }
}

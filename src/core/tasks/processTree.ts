// Kills every process that belongs to a task, on every system, and checks that they are gone. Members
// are found in the process table (processTable.ts) by two links: parent pids (children, grandchildren,
// also `setsid` ones that keep their parent) and the marker variable every descendant inherits (daemons
// that double-forked and were re-parented, which parent links no longer reach; not on Windows, which
// shows no environments: there the snapshot taken before the kill, with each process's parent and start,
// stands in). killPlan.ts decides from each reading; this module reads, sends and reads again:
// POSIX: SIGTERM to groups and pids, SIGKILL after the grace; Windows: taskkill.exe, then taskkill /F.
// Done when the table shows none of them alive.
import { execFile, execFileSync } from 'node:child_process';
import { findMembers, planBlindTaskkill, planSignals, planTaskkill, type KillStep, type OrphanedBy } from './killPlan';
import { platform as currentPlatform, type Platform } from '../platform';
import { processTable, type ProcessInfo, type ProcessTable, type ProcessTableSource } from './processTable';
import { taskkillPath } from './windowsShell';

/** How often to look whether killed processes are gone. */
const KILL_POLL_MS = 10;
/** After the last, forceful round, how long to wait for processes to vanish before giving up (uninterruptible sleep). */
const KILL_GIVE_UP_MS = 3000;
/** Start times read by `ps` have one-second steps: a task's processes may show a start up to this much before the task's. */
const START_SLACK_MS = 2000;

/** What to kill: a task's shell pid (its group and descendants) and/or its environment marker. */
export interface KillTarget {
  readonly pid?: number;
  /** The shell's start in the table's encoding (Task.pidStartTicks), where known: the pid alone may be reused. */
  readonly pidStart?: number;
  readonly marker: string;
  /** When the task started (ms since the epoch): nothing that started earlier is its process. */
  readonly startedAt?: number;
  /**
   * When the task ended (ms since the epoch), if it did: its pid may be someone else's by now, so it is
   * never signalled. What the task left is found by its marker; where there are none (Windows), by the
   * shell's orphans that started while the task ran.
   */
  readonly endedAt?: number;
}

/** Where kills go: the real one signals and runs taskkill; tests record what would be sent. */
export interface KillSink {
  signal(target: number, signal: NodeJS.Signals): void;
  run(file: string, args: readonly string[]): Promise<void>;
  runSync(file: string, args: readonly string[]): void;
}

/** The system a kill works on. */
export interface KillSystem {
  readonly platform: Platform;
  readonly table: ProcessTableSource;
  readonly sink: KillSink;
  /** Never a member; its group is never signalled. */
  readonly self: number;
  readonly env: NodeJS.ProcessEnv;
}

const realSink: KillSink = {
  signal(target, signal) {
    try {
      process.kill(target, signal);
    } catch {
      // ESRCH: already gone. EPERM: not ours to kill.
    }
  },
  run(file, args) {
    return new Promise((resolve) => execFile(file, args, { windowsHide: true }, () => resolve()));
  },
  runSync(file, args) {
    try {
      execFileSync(file, args, { windowsHide: true, stdio: 'ignore' });
    } catch {
      // Some were gone already: taskkill says so and still ends the rest.
    }
  },
};

/** This process on a given platform and table source, with real signals (benchmarks compare sources). */
export function realKillSystem(platform: Platform, table: ProcessTableSource): KillSystem {
  return { platform, table, sink: realSink, self: process.pid, env: process.env };
}

const thisSystem = realKillSystem(currentPlatform, processTable);

let ownGroup: number | undefined;
function ownProcessGroup(system: KillSystem): number {
  if (system !== thisSystem) return system.table.readOne(system.self)?.pgid ?? system.self;
  ownGroup ??= processTable.readOne(process.pid)?.pgid ?? process.pid;
  return ownGroup;
}

/**
 * Process groups that are never signalled as a whole: the shell launchers'. A task the launcher has just
 * forked is still in the launcher's group until its `setsid` runs; signalling that group would kill the
 * launcher and every subshell waiting for a task. Such a task is signalled by its pid instead.
 */
const protectedGroups = new Set<number>();

export function protectProcessGroup(pgid: number): { dispose(): void } {
  protectedGroups.add(pgid);
  return { dispose: () => protectedGroups.delete(pgid) };
}

function liveRoots(targets: readonly KillTarget[]): KillTarget[] {
  return targets.filter((t) => t.pid !== undefined && t.endedAt === undefined);
}

/** The earliest start among the targets, in the table's encoding (undefined where it cannot be compared). */
function notBeforeOf(targets: readonly KillTarget[], table: ProcessTableSource): number | undefined {
  const starts = targets.map((t) => t.startedAt);
  if (starts.length === 0 || starts.some((s) => s === undefined)) return undefined;
  return table.startOf(Math.min(...(starts as number[])) - START_SLACK_MS);
}

/** Everything of the targets one reading of the table shows, and the steps to send them. */
class TreeReading {
  /** The shells still running: signalled, groups and all. */
  readonly roots: number[];
  private readonly orphansOf: OrphanedBy[];
  private readonly markers: Set<string>;
  private readonly notBefore: number | undefined;
  /** Members stay members after their parent dies and they are re-parented. */
  private readonly known = new Map<number, number | undefined>();
  /** The last reading failed (no table at all): kills go out unchecked, and nothing can be verified. */
  blind = false;

  constructor(
    targets: readonly KillTarget[],
    private readonly system: KillSystem,
  ) {
    const { table, platform } = system;
    const live = liveRoots(targets);
    this.roots = live.map((t) => t.pid as number);
    for (const target of live) this.known.set(target.pid as number, target.pidStart);
    this.markers = new Set(targets.map((t) => t.marker));
    this.notBefore = notBeforeOf(targets, table);
    // Without markers (Windows), an ended task's leftovers are found as its shell's orphans, born while it ran.
    this.orphansOf = platform.readsMarkers
      ? []
      : targets.flatMap((t) => {
          if (t.pid === undefined || t.endedAt === undefined || t.startedAt === undefined) return [];
          return [{ pid: t.pid, bornAfter: table.startOf(t.startedAt - START_SLACK_MS), bornBefore: table.startOf(t.endedAt + START_SLACK_MS) }];
        });
  }

  get size(): number {
    return this.known.size;
  }

  /** `scanMarkers`: also read environments (thorough, slower: not on every poll). */
  async read(scanMarkers: boolean): Promise<ProcessInfo[]> {
    const { table } = this.system;
    // /proc is read directly and quickly; other sources start a program, so they are awaited.
    const fast = table.kind === 'proc';
    const wantsMarkers = scanMarkers && this.system.platform.readsMarkers && this.markers.size > 0;
    const [current, marked] = await Promise.all([
      fast ? table.readSync() : table.read(),
      !wantsMarkers ? new Map<number, string>() : fast ? table.markedSync(this.markers) : table.marked(this.markers),
    ]);
    return this.membersIn(current, marked);
  }

  readSync(): ProcessInfo[] {
    const { table } = this.system;
    const marked = this.system.platform.readsMarkers && this.markers.size > 0 ? table.markedSync(this.markers) : new Map<number, string>();
    return this.membersIn(table.readSync(), marked);
  }

  steps(members: readonly ProcessInfo[], force: boolean, roots = this.roots): KillStep[] {
    const { platform, env } = this.system;
    if (platform.kills === 'taskkill') return this.blind ? planBlindTaskkill(roots, taskkillPath(env)) : planTaskkill(members, taskkillPath(env));
    // Blind: the shells by pid and group, as they were given.
    const targets = this.blind ? roots.map((pid) => ({ pid, ppid: 0, pgid: pid, state: 'R', startTicks: 0 })) : members;
    return planSignals(targets, roots, force ? 'SIGKILL' : 'SIGTERM', { ownGroup: ownProcessGroup(this.system), protectedGroups });
  }

  private membersIn(current: ProcessTable, marked: ReadonlyMap<number, string>): ProcessInfo[] {
    // No system has an empty process table: the reading failed (ps or PowerShell missing, hung, refused).
    this.blind = current.size === 0;
    const query = { roots: this.roots, known: this.known, marked: marked.keys(), notBefore: this.notBefore, orphansOf: this.orphansOf, self: this.system.self };
    const found = findMembers(current, query);
    for (const info of found) this.known.set(info.pid, info.startTicks);
    return found;
  }
}

async function send(steps: readonly KillStep[], sink: KillSink): Promise<void> {
  const runs: Promise<void>[] = [];
  for (const step of steps) {
    if (step.kind === 'signal') sink.signal(step.target, step.signal);
    else runs.push(sink.run(step.file, step.args));
  }
  await Promise.all(runs);
}

/** Kills every tree at once, synchronously (SIGKILL, taskkill /F): for deactivation and CLI exit, when there is no time to wait. */
export function killTreesNow(targets: readonly KillTarget[], system: KillSystem = thisSystem): void {
  if (targets.length === 0) return;
  const reading = new TreeReading(targets, system);
  for (const step of reading.steps(reading.readSync(), true)) {
    if (step.kind === 'signal') system.sink.signal(step.target, step.signal);
    else system.sink.runSync(step.file, step.args);
  }
}

/**
 * Ends the whole tree of every target gently (SIGTERM), forcefully whatever is left after `graceMs`
 * (SIGKILL; on Windows taskkill /F at once: console programs have no gentle stop it could send); resolves
 * once none of their processes is alive (zombies count as gone: they cannot run any more), or when
 * `signal` aborts (the owner is shutting down and has already killed everything).
 */
export async function terminateTrees(targets: readonly KillTarget[], graceMs: number, signal?: AbortSignal, system: KillSystem = thisSystem): Promise<void> {
  if (targets.length === 0) return;
  const reading = new TreeReading(targets, system);
  let alive = await reading.read(true);
  let forced = system.platform.kills === 'taskkill';
  await send(reading.steps(alive, forced), system.sink);
  if (reading.blind) {
    // No table to check against: the grace, then the forceful round, and no verification.
    if (!forced) await delay(graceMs, signal);
    if (!forced && !signal?.aborted) await send(reading.steps([], true), system.sink);
    return;
  }
  const killAt = Date.now() + graceMs;
  let giveUpAt = forced ? Date.now() + KILL_GIVE_UP_MS : Number.POSITIVE_INFINITY;
  while (alive.length > 0 && Date.now() < giveUpAt && !signal?.aborted) {
    await delay(KILL_POLL_MS, signal);
    if (!forced && Date.now() >= killAt) {
      forced = true;
      alive = await reading.read(true);
      giveUpAt = Date.now() + KILL_GIVE_UP_MS;
      await send(reading.steps(alive, true), system.sink);
      continue;
    }
    const before = reading.size;
    alive = await reading.read(false);
    // Something forked while dying: it gets the same treatment (by pid: the groups had theirs).
    if (reading.size > before) await send(reading.steps(alive, forced, []), system.sink);
  }
}

/** The live processes of the targets now (for pollers and tests). */
export function membersNow(targets: readonly KillTarget[], system: KillSystem = thisSystem): Promise<ProcessInfo[]> {
  return new TreeReading(targets, system).read(false);
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

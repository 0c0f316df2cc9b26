// Kills every process that belongs to a task, on every system, and checks that they are gone. Members
// are found in the process table (processTable.ts) by two links: parent pids (children, grandchildren,
// also `setsid` ones that keep their parent) and the marker variable every descendant inherits (daemons
// that double-forked and were re-parented, which parent links no longer reach; not on Windows, which
// shows no environments: there the snapshot taken before the kill, with each process's parent and start,
// stands in). killPlan.ts decides from each reading; this module reads, sends and reads again:
// POSIX: SIGTERM to groups and pids, SIGKILL after the grace; Windows: taskkill.exe /F at once.
// Done when the table shows none of them alive.
import { execFile, execFileSync } from 'node:child_process';
import { findMembers, planBlindTaskkill, planSignals, planTaskkill, type KillStep, type OrphanedBy } from './killPlan';
import { platform as currentPlatform, type Platform } from '../platform';
import { isDead, processTable, type ProcessInfo, type ProcessTable, type ProcessTableSource } from './processTable';
import { taskkillPath } from './windowsShell';

/** How often to look whether killed processes are gone. */
const KILL_POLL_MS = 10;
/** After the last, forceful round, how long to wait for processes to vanish before giving up (uninterruptible sleep). */
const KILL_GIVE_UP_MS = 3000;
/** Start times read by `ps` have one-second steps: a task's processes may show a start up to this much before the task's. */
const PS_START_SLACK_MS = 2000;
/** CIM's are to the millisecond, on the same clock as ours. */
const CIM_START_SLACK_MS = 100;

function slackOf(table: ProcessTableSource): number {
  return table.kind === 'cim' ? CIM_START_SLACK_MS : PS_START_SLACK_MS;
}

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

/** A taskkill that takes longer is stuck (a process in a driver call): the next reading shows what is left. */
const TASKKILL_TIMEOUT_MS = 10_000;

const realSink: KillSink = {
  signal(target, signal) {
    try {
      process.kill(target, signal);
    } catch {
      // ESRCH: already gone. EPERM: not ours to kill.
    }
  },
  run(file, args) {
    return new Promise((resolve) => execFile(file, args, { windowsHide: true, timeout: TASKKILL_TIMEOUT_MS }, () => resolve()));
  },
  runSync(file, args) {
    try {
      execFileSync(file, args, { windowsHide: true, stdio: 'ignore', timeout: TASKKILL_TIMEOUT_MS / 2 });
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
  return table.startOf(Math.min(...(starts as number[])) - slackOf(table));
}

/** Everything of the targets one reading of the table shows, and the steps to send them. */
class TreeReading {
  /** The shells still running. */
  private readonly roots: number[];
  /** Roots whose pid the last reading showed held by a process that is not the task's: never signalled. */
  private readonly lost = new Set<number>();
  private readonly orphansOf: OrphanedBy[];
  private readonly markers: Set<string>;
  private readonly notBefore: number | undefined;
  /** Members stay members after their parent dies and they are re-parented. */
  private readonly known = new Map<number, number | undefined>();
  /** The last reading failed (no table at all, or a timed-out one): nothing can be checked. */
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
    // Without markers (Windows), a shell's orphans (born while its task ran) are found by their parent pid:
    // an ended task's, and a running one's whose shell is gone by the first reading.
    const slack = slackOf(table);
    this.orphansOf = platform.readsMarkers
      ? []
      : targets.flatMap((t) => {
          if (t.pid === undefined || t.startedAt === undefined) return [];
          const bornBefore = t.endedAt === undefined ? undefined : table.startOf(t.endedAt);
          return [{ pid: t.pid, bornAfter: table.startOf(t.startedAt - slack), bornBefore }];
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

  /** `withGroups`: the running shells' groups too (the first and the forceful round; later ones go by pid). */
  steps(members: readonly ProcessInfo[], force: boolean, withGroups = true): KillStep[] {
    const { platform, env } = this.system;
    const roots = withGroups ? this.roots.filter((pid) => !this.lost.has(pid)) : [];
    if (this.blind) {
      // Unchecked: the running shells and whatever an earlier reading found.
      const others = [...this.known.keys()].filter((pid) => !this.roots.includes(pid));
      if (platform.kills === 'taskkill') return planBlindTaskkill([...roots, ...others], taskkillPath(env));
      const guessed = [...roots.map((pid) => ({ pid, pgid: pid })), ...others.map((pid) => ({ pid, pgid: 0 }))];
      return planSignals(guessed.map((p) => ({ ...p, ppid: 0, state: 'R', startTicks: 0 })), roots, force ? 'SIGKILL' : 'SIGTERM', this.limits());
    }
    if (platform.kills === 'taskkill') return planTaskkill(members, taskkillPath(env));
    return planSignals(members, roots, force ? 'SIGKILL' : 'SIGTERM', this.limits());
  }

  private limits(): { ownGroup: number; protectedGroups: ReadonlySet<number> } {
    return { ownGroup: ownProcessGroup(this.system), protectedGroups };
  }

  private membersIn(current: ProcessTable, marked: ReadonlyMap<number, string>): ProcessInfo[] {
    // No system has an empty process table: the reading failed (ps or PowerShell missing, hung, refused).
    this.blind = current.size === 0;
    if (this.blind) return [];
    const query = { roots: this.roots, known: this.known, marked: marked.keys(), notBefore: this.notBefore, orphansOf: this.orphansOf, self: this.system.self };
    const found = findMembers(current, query);
    for (const info of found) this.known.set(info.pid, info.startTicks);
    const ours = new Set(found.map((info) => info.pid));
    for (const root of this.roots) {
      const holder = current.get(root);
      // Held by a live process that is not the task's: the shell was reaped and its pid given to someone else.
      if (holder && !isDead(holder) && !ours.has(root)) this.lost.add(root);
    }
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
  if (reading.blind && !forced) {
    // No table to check against: the grace, then the forceful round, unchecked.
    await delay(graceMs, signal);
    if (!signal?.aborted) await send(reading.steps([], true), system.sink);
    return;
  }
  if (reading.blind) return;
  const killAt = Date.now() + graceMs;
  let giveUpAt = forced ? Date.now() + KILL_GIVE_UP_MS : Number.POSITIVE_INFINITY;
  while (alive.length > 0 && Date.now() < giveUpAt && !signal?.aborted) {
    await delay(KILL_POLL_MS, signal);
    if (!forced && Date.now() >= killAt) {
      forced = true;
      const next = await reading.read(true);
      // A failed reading tells nothing: the forceful round goes to what is known (steps() when blind).
      if (!reading.blind) alive = next;
      giveUpAt = Date.now() + KILL_GIVE_UP_MS;
      await send(reading.steps(alive, true), system.sink);
      continue;
    }
    const before = reading.size;
    const next = await reading.read(false);
    if (reading.blind) continue;
    alive = next;
    // Something forked while dying: it gets the same treatment (by pid: the groups had theirs).
    if (reading.size > before) await send(reading.steps(alive, forced, false), system.sink);
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

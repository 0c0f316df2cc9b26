// Finds and kills every process that belongs to a task. Found by reading /proc (Linux), where two links
// are followed: parent pids (children, grandchildren, also `setsid` ones that keep their parent) and a marker
// environment variable that every descendant inherits (daemons that double-forked and were
// re-parented to init, which the parent links no longer reach). Killed group by group and process by
// process: SIGTERM, SIGKILL after a grace period, done only when /proc shows none of them alive
// (Windows: taskkill /T /F).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';

/** Set in every task's environment as `<instance>.<task id>`; descendants inherit it. */
export const TASK_MARKER_ENV = 'BACKGROUND_AGENT_TASK_ID';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  /** One-letter state from /proc: Z = zombie (dead, waiting to be reaped), X = dead. */
  readonly state: string;
  /** When it started, in clock ticks since boot: with the pid, names one process for good (pids are reused). */
  readonly startTicks: number;
}

/** Reads of /proc in flight at once: a full synchronous pass would block the event loop, one at a time is slow. */
const READS_IN_FLIGHT = 16;

/** Runs `work` over `items`, READS_IN_FLIGHT at a time, until `done()` (checked between batches). */
export async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>, done: () => boolean = () => false): Promise<void> {
  for (let i = 0; i < items.length && !done(); i += READS_IN_FLIGHT) await Promise.all(items.slice(i, i + READS_IN_FLIGHT).map(work));
}

export const hasProcFs = process.platform === 'linux' && existsSync('/proc/self/stat');

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcessInfo | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const pid = Number.parseInt(text, 10);
  return { pid, state: fields[0], ppid: Number(fields[1]), pgid: Number(fields[2]), startTicks: Number(fields[19]) };
}

export function readProcess(pid: number): ProcessInfo | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** Every process visible now, by pid. Processes that vanish while we read are skipped. */
export function readProcessTable(): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  for (const name of readdirSync('/proc')) {
    const first = name.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    const info = readProcess(Number(name));
    if (info) table.set(info.pid, info);
  }
  return table;
}

/** Like readProcessTable, without blocking the event loop (for pollers): a few reads in flight at a time. */
export async function readProcessTableAsync(): Promise<Map<number, ProcessInfo>> {
  const table = new Map<number, ProcessInfo>();
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name));
  await inBatches(pids, async (pid) => {
    const info = parseStat(await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => ''));
    if (info) table.set(info.pid, info);
  });
  return table;
}

export function isDead(info: ProcessInfo | undefined): boolean {
  return info === undefined || info.state === 'Z' || info.state === 'X';
}

/** The value of the marker variable in a process's environment, if it has one. */
export function readMarker(pid: number): string | undefined {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return undefined;
  }
  return markerIn(env);
}

/**
 * Pids of live processes carrying one of the markers (or a marker `matches` accepts), read without blocking the event loop (a full
 * synchronous read of /proc takes 35-55 ms with ~450 processes here). Zombies have no environment left.
 * Only pids above `bornAfterPid` are read (the system's older processes cannot carry a newer marker),
 * unless pids wrapped around since (the last pid handed out is then below it): then all are read.
 */
export async function findMarkedProcesses(markers: ReadonlySet<string> | ((marker: string) => boolean), bornAfterPid = 0): Promise<number[]> {
  const matches = typeof markers === 'function' ? markers : (marker: string) => markers.has(marker);
  const lastPid = Number(await readFile('/proc/sys/kernel/ns_last_pid', 'latin1').catch(() => '0'));
  const floor = lastPid >= bornAfterPid ? bornAfterPid : 0;
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => pid > floor);
  const found: number[] = [];
  // A few reads in flight at a time: hundreds of completions in one turn would block it just the same.
  await inBatches(pids, async (pid) => {
    if (pid === process.pid || pid === 1) return;
    const env = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
    const marker = env && markerIn(env);
    if (marker !== undefined && matches(marker)) found.push(pid);
  });
  return found;
}

function markerIn(env: Buffer): string | undefined {
  const key = `${TASK_MARKER_ENV}=`;
  let at = env.indexOf(key);
  // Must start a NUL-separated entry, not sit inside another variable's value.
  while (at > 0 && env[at - 1] !== 0) at = env.indexOf(key, at + 1);
  if (at < 0) return undefined;
  const from = at + key.length;
  const end = env.indexOf(0, from);
  return env.toString('latin1', from, end < 0 ? env.length : end);
}

/**
 * Live processes that belong to the given roots or carry one of the markers, excluding ourselves.
 * `scanMarkers` reads every process's environment: thorough but slower, so pollers skip it.
 */
export function findTaskProcesses(
  table: ReadonlyMap<number, ProcessInfo>,
  roots: Iterable<number>,
  markers: ReadonlySet<string>,
  scanMarkers: boolean,
): ProcessInfo[] {
  const self = process.pid;
  const members = new Set<number>();
  for (const root of roots) if (table.has(root)) members.add(root);
  if (scanMarkers && markers.size > 0) {
    for (const pid of table.keys()) {
      if (pid === self || pid === 1 || members.has(pid)) continue;
      const marker = readMarker(pid);
      if (marker !== undefined && markers.has(marker)) members.add(pid);
    }
  }
  // Close over parent links: any process whose parent is a member is a member (until nothing changes).
  const children = new Map<number, number[]>();
  for (const info of table.values()) {
    const list = children.get(info.ppid);
    if (list) list.push(info.pid);
    else children.set(info.ppid, [info.pid]);
  }
  const queue = [...members];
  while (queue.length > 0) {
    const pid = queue.pop() as number;
    for (const child of children.get(pid) ?? []) {
      if (!members.has(child)) {
        members.add(child);
        queue.push(child);
      }
    }
  }
  members.delete(self);
  members.delete(1);
  const found: ProcessInfo[] = [];
  for (const pid of members) {
    const info = table.get(pid);
    if (info && !isDead(info)) found.push(info);
  }
  return found;
}

// ---- Killing.

const isWindows = process.platform === 'win32';

/** How often to look whether killed processes are gone. */
const KILL_POLL_MS = 10;
/** After SIGKILL, how long to wait for processes to vanish before giving up (uninterruptible sleep). */
const KILL_GIVE_UP_MS = 3000;

/** What to kill: a live task's shell pid (its group and descendants) and/or its environment marker. */
export interface KillTarget {
  readonly pid?: number;
  readonly marker: string;
}

function sendSignal(pidOrGroup: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pidOrGroup, signal);
  } catch {
    // ESRCH: already gone. EPERM: not ours to kill.
  }
}

let ownGroup: number | undefined;
function ownProcessGroup(): number {
  ownGroup ??= readProcess(process.pid)?.pgid ?? process.pid;
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

/** Signals every process and every process group found, never our own group, pid 1 or ourselves. */
function signalAll(found: readonly ProcessInfo[], roots: readonly number[], signal: NodeJS.Signals): void {
  const groups = new Set<number>(roots);
  for (const info of found) groups.add(info.pgid);
  groups.delete(ownProcessGroup());
  for (const group of protectedGroups) groups.delete(group);
  for (const group of groups) if (group > 1) sendSignal(-group, signal);
  for (const info of found) sendSignal(info.pid, signal);
}

function rootsOf(targets: readonly KillTarget[]): number[] {
  return targets.flatMap((t) => (t.pid === undefined ? [] : [t.pid]));
}

/** SIGKILLs every tree at once, synchronously: for deactivation and CLI exit, when there is no time to wait. */
export function killTreesNow(targets: readonly KillTarget[]): void {
  if (targets.length === 0) return;
  const roots = rootsOf(targets);
  if (isWindows) {
    for (const pid of roots) spawnSync('taskkill', ['/T', '/F', '/PID', String(pid)], { windowsHide: true });
    return;
  }
  const found = hasProcFs ? findTaskProcesses(readProcessTable(), roots, new Set(targets.map((t) => t.marker)), true) : [];
  signalAll(found, roots, 'SIGKILL');
}

/**
 * SIGTERM to the whole tree of every target, SIGKILL to whatever is left after `graceMs`; resolves once
 * none of their processes is alive (zombies count as gone: they cannot run any more).
 */
export async function terminateTrees(targets: readonly KillTarget[], graceMs: number, signal?: AbortSignal): Promise<void> {
  if (targets.length === 0) return;
  const roots = rootsOf(targets);
  if (isWindows) {
    await Promise.all(roots.map((pid) => new Promise<void>((resolve) => {
      const killer = spawn('taskkill', ['/T', '/F', '/PID', String(pid)], { windowsHide: true, stdio: 'ignore' });
      killer.once('exit', () => resolve());
      killer.once('error', () => resolve());
    })));
    return;
  }
  if (!hasProcFs) {
    // No /proc (macOS): groups are all we can reach.
    for (const pid of roots) sendSignal(-pid, 'SIGTERM');
    await delay(graceMs, signal);
    for (const pid of roots) sendSignal(-pid, 'SIGKILL');
    return;
  }
  const markers = new Set(targets.map((t) => t.marker));
  // Known members stay known even after their parent dies and they are re-parented.
  const known = new Set<number>(roots);
  const scan = (scanMarkers: boolean): ProcessInfo[] => {
    const found = findTaskProcesses(readProcessTable(), known, markers, scanMarkers);
    for (const info of found) known.add(info.pid);
    return found;
  };
  let alive = scan(true);
  signalAll(alive, roots, 'SIGTERM');
  const killAt = Date.now() + graceMs;
  let killed = false;
  let giveUpAt = Number.POSITIVE_INFINITY;
  // `signal` = the owner is shutting down and has already SIGKILLed everything: stop watching.
  while (alive.length > 0 && Date.now() < giveUpAt && !signal?.aborted) {
    await delay(KILL_POLL_MS, signal);
    if (!killed && Date.now() >= killAt) {
      killed = true;
      giveUpAt = Date.now() + KILL_GIVE_UP_MS;
      alive = scan(true);
      signalAll(alive, roots, 'SIGKILL');
      continue;
    }
    const before = known.size;
    alive = scan(false);
    // Something forked while dying: it gets the same signal.
    if (known.size > before) signalAll(alive, [], killed ? 'SIGKILL' : 'SIGTERM');
  }
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

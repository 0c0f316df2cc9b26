// Finds every process that belongs to a task, by reading /proc (Linux). Two links are followed:
// parent pids (children, grandchildren, also `setsid` ones that keep their parent) and a marker
// environment variable that every descendant inherits (daemons that double-forked and were
// re-parented to init, which the parent links no longer reach). Reading only; killing is processRunner's job.
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
}

const MARKER_READS_IN_FLIGHT = 16;

export const hasProcFs = process.platform === 'linux' && existsSync('/proc/self/stat');

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcessInfo | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const pid = Number.parseInt(text, 10);
  return { pid, state: fields[0], ppid: Number(fields[1]), pgid: Number(fields[2]) };
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
 * Pids of live processes carrying one of the markers, read without blocking the event loop (a full
 * synchronous read of /proc takes 35-55 ms with ~450 processes here). Zombies have no environment left.
 * Only pids above `bornAfterPid` are read (the system's older processes cannot carry a newer marker),
 * unless pids wrapped around since (the last pid handed out is then below it): then all are read.
 */
export async function findMarkedProcesses(markers: ReadonlySet<string>, bornAfterPid = 0): Promise<number[]> {
  const lastPid = Number(await readFile('/proc/sys/kernel/ns_last_pid', 'latin1').catch(() => '0'));
  const floor = lastPid >= bornAfterPid ? bornAfterPid : 0;
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => pid > floor);
  const found: number[] = [];
  // A few reads in flight at a time: hundreds of completions in one turn would block it just the same.
  for (let i = 0; i < pids.length; i += MARKER_READS_IN_FLIGHT) {
    await Promise.all(pids.slice(i, i + MARKER_READS_IN_FLIGHT).map(async (pid) => {
      if (pid === process.pid || pid === 1) return;
      const env = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
      const marker = env && markerIn(env);
      if (marker !== undefined && markers.has(marker)) found.push(pid);
    }));
  }
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

// Finds every process that belongs to a task, by reading /proc (Linux). Two links are followed:
// parent pids (children, grandchildren, also `setsid` ones that keep their parent) and a marker
// environment variable that every descendant inherits (daemons that double-forked and were
// re-parented to init, which the parent links no longer reach). Reading only; killing is processRunner's job.
import { readdirSync, readFileSync, existsSync } from 'node:fs';

/** Set in every task's environment as `<instance>.<task id>`; descendants inherit it. */
export const TASK_MARKER_ENV = 'BACKGROUND_AGENT_TASK_ID';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly pgid: number;
  /** One-letter state from /proc: Z = zombie (dead, waiting to be reaped), X = dead. */
  readonly state: string;
}

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

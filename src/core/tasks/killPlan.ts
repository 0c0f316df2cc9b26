// Who belongs to the tasks being killed, and what to send them, decided from one reading of the process
// table (processTable.ts). Pure: tested on recorded tables of every system (test/unit/tasks-kill-plan).
// processTree.ts reads the tables, runs the steps and reads again until none is left.
import { isDead, type ProcessInfo, type ProcessTable } from './processTable';

export interface MembersQuery {
  /** The tasks' shells that run (or ran until this kill): their process groups are the tasks'. */
  readonly roots: readonly number[];
  /**
   * Processes known to be members, with their start when known (the roots; members found by an earlier
   * reading: one re-parented since stays one). The same pid with another start is someone else now.
   */
  readonly known: ReadonlyMap<number, number | undefined>;
  /** Pids whose environment carries one of the tasks' markers. */
  readonly marked?: Iterable<number>;
  /** No member started before this (the earliest task's start, in the table's encoding), if known. */
  readonly notBefore?: number;
  /**
   * Tasks' shells on a system without markers (Windows), ended or gone by now: their children that
   * started within the task's life (`bornAfter`..`bornBefore`) are still theirs.
   */
  readonly orphansOf?: readonly OrphanedBy[];
  /** This process: never a member. */
  readonly self: number;
}

export interface OrphanedBy {
  readonly pid: number;
  readonly bornAfter?: number;
  readonly bornBefore?: number;
}

/**
 * The live members: the known, the marked, whatever is in a root's process group (a `cmd &` its shell
 * left behind), and every descendant of those by parent links, each started no earlier than its parent
 * (a parent pid may name a newer process that got a dead parent's pid: Windows never updates parent
 * pids). A known member that is gone still has its orphans: Windows leaves them naming it as their
 * parent (POSIX re-parents them, so there this finds nothing); so does an ended task's shell, within
 * the task's life. Whoever holds a gone parent's pid now, and what started after it, is not the task's.
 * Pid 1 and this process never are.
 */
export function findMembers(table: ProcessTable, query: MembersQuery): ProcessInfo[] {
  const notBefore = query.notBefore ?? Number.NEGATIVE_INFINITY;
  const members = new Map<number, ProcessInfo>();
  const add = (info: ProcessInfo | undefined): boolean => {
    if (!info || info.pid <= 1 || info.pid === query.self || info.startTicks < notBefore || members.has(info.pid)) return false;
    members.set(info.pid, info);
    return true;
  };
  const gone: OrphanedBy[] = [...(query.orphansOf ?? [])];
  for (const [pid, start] of query.known) {
    const info = table.get(pid);
    if (info && (start === undefined || info.startTicks === start)) add(info);
    else if (start !== undefined) gone.push({ pid, bornAfter: start });
  }
  for (const pid of query.marked ?? []) add(table.get(pid));

  const children = new Map<number, ProcessInfo[]>();
  for (const info of table.values()) {
    const list = children.get(info.ppid);
    if (list) list.push(info);
    else children.set(info.ppid, [info]);
  }
  // A running task's group: with its shell, or without it once nobody holds the shell's pid (a group's
  // id is not given to a new process while the group lives: a `cmd &` its shell left is still the task's).
  const roots = new Set(query.roots);
  for (const info of table.values()) {
    if (!roots.has(info.pgid) || info.pgid === info.pid) continue;
    const leader = members.get(info.pgid);
    if (leader ? info.startTicks >= leader.startTicks : !table.has(info.pgid)) add(info);
  }
  for (const parent of gone) {
    const heldSince = table.get(parent.pid)?.startTicks ?? Number.POSITIVE_INFINITY;
    const after = parent.bornAfter ?? Number.NEGATIVE_INFINITY;
    const before = Math.min(parent.bornBefore ?? Number.POSITIVE_INFINITY, heldSince - 1);
    for (const child of children.get(parent.pid) ?? []) if (child.startTicks >= after && child.startTicks <= before) add(child);
  }
  const queue = [...members.values()];
  while (queue.length > 0) {
    const parent = queue.pop() as ProcessInfo;
    for (const child of children.get(parent.pid) ?? []) {
      if (child.startTicks >= parent.startTicks && add(child)) queue.push(child);
    }
  }
  return [...members.values()].filter((info) => !isDead(info));
}

/** One thing to do: a POSIX signal to a pid (or, negative, a process group), or a program to run. */
export type KillStep =
  | { readonly kind: 'signal'; readonly target: number; readonly signal: 'SIGTERM' | 'SIGKILL' }
  | { readonly kind: 'run'; readonly file: string; readonly args: readonly string[] };

export interface SignalLimits {
  /** Our own process group: never signalled as a whole. */
  readonly ownGroup: number;
  /** Groups never signalled as a whole (the shell launchers'; see protectProcessGroup). */
  readonly protectedGroups: ReadonlySet<number>;
}

/** POSIX: the signal to every member's group and every root's, then to every member by pid. */
export function planSignals(members: readonly ProcessInfo[], roots: readonly number[], signal: 'SIGTERM' | 'SIGKILL', limits: SignalLimits): KillStep[] {
  const groups = new Set<number>(roots);
  for (const info of members) groups.add(info.pgid);
  groups.delete(limits.ownGroup);
  for (const group of limits.protectedGroups) groups.delete(group);
  const steps: KillStep[] = [];
  for (const group of groups) if (group > 1) steps.push({ kind: 'signal', target: -group, signal });
  for (const info of members) steps.push({ kind: 'signal', target: info.pid, signal });
  return steps;
}

/** Pids per taskkill command: its command line stays far below Windows' 32,767 characters. */
const PIDS_PER_TASKKILL = 100;

/**
 * Windows: every member by its own pid, from the snapshot taken before anything dies, forcefully (a
 * console program has no gentle stop taskkill could send; without /F it only asks windows to close).
 * Not `/T`: taskkill would follow parent pids itself, without the start times that tell a reused pid
 * apart; what a member starts meanwhile is in the next reading.
 */
export function planTaskkill(members: readonly ProcessInfo[], taskkill: string): KillStep[] {
  const steps: KillStep[] = [];
  for (let i = 0; i < members.length; i += PIDS_PER_TASKKILL) {
    const pids = members.slice(i, i + PIDS_PER_TASKKILL).flatMap((info) => ['/PID', String(info.pid)]);
    steps.push({ kind: 'run', file: taskkill, args: ['/F', ...pids] });
  }
  return steps;
}

/**
 * Windows, when no snapshot can be had: each shell with its tree as taskkill finds it (`/T`), and the
 * members an earlier reading found, unchecked.
 */
export function planBlindTaskkill(pids: readonly number[], taskkill: string): KillStep[] {
  return pids.length === 0 ? [] : [{ kind: 'run', file: taskkill, args: ['/T', '/F', ...pids.flatMap((pid) => ['/PID', String(pid)])] }];
}

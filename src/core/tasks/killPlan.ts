// Who belongs to the tasks being killed, and what to send them, decided from one reading of the process
// table (processTable.ts). Pure: tested on recorded tables of every system (test/unit/tasks-kill-plan).
// processTree.ts reads the tables, runs the steps and reads again until none is left.
import { isDead, type ProcessInfo, type ProcessTable } from './processTable';

export interface MembersQuery {
  /**
   * The tasks' shells. A root may be gone (its task ended, or it was killed first): see findMembers. Only
   * those in `known` may be members themselves: an ended task's pid may be someone else's by now.
   */
  readonly roots: readonly number[];
  /**
   * Processes known to be members, with their start when known (found by an earlier reading: a member
   * re-parented since stays one). The same pid with another start is someone else now.
   */
  readonly known: ReadonlyMap<number, number | undefined>;
  /** Pids whose environment carries one of the tasks' markers. */
  readonly marked?: Iterable<number>;
  /** No member started before this (the earliest task's start, in the table's encoding), if known. */
  readonly notBefore?: number;
  /** This process: never a member. */
  readonly self: number;
}

/**
 * The live members: the roots, the marked, whatever is in a root's process group (a `cmd &` its shell
 * left behind), and every descendant of those by parent links, each started no earlier than its parent
 * (a parent pid may name a newer process that got a dead parent's pid: Windows never updates parent
 * pids). A root that is gone still has its orphans: processes whose parent pid is the root's and that
 * started after the task (and before whoever holds that pid now). Pid 1 and this process never are.
 */
export function findMembers(table: ProcessTable, query: MembersQuery): ProcessInfo[] {
  const notBefore = query.notBefore ?? Number.NEGATIVE_INFINITY;
  const members = new Map<number, ProcessInfo>();
  const add = (info: ProcessInfo | undefined): void => {
    if (info && info.pid > 1 && info.pid !== query.self && info.startTicks >= notBefore) members.set(info.pid, info);
  };
  for (const [pid, start] of query.known) {
    const info = table.get(pid);
    if (info && (start === undefined || info.startTicks === start)) add(info);
  }
  for (const pid of query.marked ?? []) add(table.get(pid));

  const roots = new Set(query.roots);
  // A gone root's pid: its orphans still name it as parent (Windows), until a newer process holds it.
  const goneRoots = new Map<number, number>();
  for (const root of roots) {
    if (members.has(root)) continue;
    const holder = table.get(root);
    goneRoots.set(root, holder ? holder.startTicks : Number.POSITIVE_INFINITY);
  }
  const children = new Map<number, ProcessInfo[]>();
  for (const info of table.values()) {
    const list = children.get(info.ppid);
    if (list) list.push(info);
    else children.set(info.ppid, [info]);
    // A group lives as long as one of its members and its id is not given to a new process meanwhile: a
    // gone root's group (nobody holds its pid) is still the task's.
    if (roots.has(info.pgid) && info.pgid !== info.pid && (members.has(info.pgid) || goneRoots.get(info.pgid) === Number.POSITIVE_INFINITY)) {
      const leader = members.get(info.pgid);
      if (!leader || info.startTicks >= leader.startTicks) add(info);
    }
  }
  for (const [root, heldSince] of goneRoots) {
    for (const child of children.get(root) ?? []) if (child.startTicks < heldSince) add(child);
  }
  const queue = [...members.values()];
  while (queue.length > 0) {
    const parent = queue.pop() as ProcessInfo;
    for (const child of children.get(parent.pid) ?? []) {
      if (members.has(child.pid) || child.startTicks < parent.startTicks) continue;
      add(child);
      if (members.has(child.pid)) queue.push(child);
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
 * Windows: every member by its own pid, from the snapshot taken before anything dies (`/T` alone misses
 * descendants whose parent already exited). Without `force`, taskkill asks windows to close (console
 * programs ignore it); `force` ends them.
 */
export function planTaskkill(members: readonly ProcessInfo[], force: boolean, taskkill: string): KillStep[] {
  const steps: KillStep[] = [];
  for (let i = 0; i < members.length; i += PIDS_PER_TASKKILL) {
    const pids = members.slice(i, i + PIDS_PER_TASKKILL).flatMap((info) => ['/PID', String(info.pid)]);
    steps.push({ kind: 'run', file: taskkill, args: ['/T', ...(force ? ['/F'] : []), ...pids] });
  }
  return steps;
}

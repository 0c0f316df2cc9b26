// Killing task process trees: SIGTERM to every group and process of the tree, SIGKILL after a grace
// period, done only when /proc shows none of them alive (Windows: taskkill /T /F). Reached through
// processRunner.ts, the one owner of starting and killing.
import { spawn, spawnSync } from 'node:child_process';
import { hasProcFs, readProcessTable, findTaskProcesses, readProcess, type ProcessInfo } from './processTree';

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

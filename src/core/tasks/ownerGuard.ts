// Tasks outlive a window reload, never their owner. Each manager instance that starts a task also
// starts a guard: a tiny /bin/sh (about 1 MB) in its own session that reads a pipe only this process
// holds. Whenever the owner goes away (exits, crashes, is SIGKILLed, its terminal closes) the kernel
// closes that pipe and the guard wakes: after `graceSeconds` (0 for the CLI; 20 by default for the
// extension host) it kills every process that carries one of its instances' markers, setsid ones
// included, then exits; it exits early once none is left. A later manager of the same log folder (the
// window after a reload) takes the tasks over within the grace (takeOver.ts): its own guard watches them
// from then on and the earlier guard is told to stand down (SIGUSR1), after checking by start time that
// it is still that guard. Each instance leaves a small record in <logDir>/hosts/ so a later one can find its owner
// and guard; nothing is ever identified by pid alone. Linux only (it needs /proc); elsewhere tasks are
// killed when their manager is disposed, as before.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasProcFs, isDead, readProcess, TASK_MARKER_ENV } from './processTree';

/** `$0` of every guard: with its instance right after it, what tells a guard apart from any other shell. */
const GUARD_NAME = 'background-agent-guard';
export const HOSTS_FOLDER = 'hosts';
/** Instance ids (task.ts newInstanceId) are this alphabet only, so they can go into the guard's pattern as they are. */
const INSTANCE_PATTERN = /^[2-9a-z]{6}$/;

/**
 * $1 = instances ('|'-separated), $2 = grace in seconds, $3 = the file it writes the time into when it
 * starts killing. Reads `w <instance>` lines (more instances to guard) until the owner's pipe closes.
 * Killing: SIGTERM to every marked process (and its group, when it leads one), up to 1 s to go, then
 * SIGKILL until none is left (zombies have no environment, so they no longer match).
 */
const GUARD_SCRIPT = `trap 'exit 0' USR1
instances=$1
while IFS= read -r line; do
  case $line in "w "*) instances="$instances|\${line#w }" ;; esac
done
marked() {
  grep -lzE "^${TASK_MARKER_ENV}=($instances)\\\\." /proc/[0-9]*/environ 2>/dev/null | sed -n 's#^/proc/\\([0-9][0-9]*\\)/environ$#\\1#p'
}
signal() {
  for pid in $2; do
    [ "$pid" = "$$" ] && continue
    kill -s "$1" -- "-$pid" 2>/dev/null
    kill -s "$1" "$pid" 2>/dev/null
  done
}
left=$2
while [ "$left" -gt 0 ]; do
  [ -n "$(marked)" ] || exit 0
  sleep 1 & wait $!
  left=$((left - 1))
done
trap '' USR1
pids=$(marked)
[ -n "$pids" ] || exit 0
date +%s > "$3" 2>/dev/null
signal TERM "$pids"
round=0
while [ $round -lt 60 ]; do
  sleep 0.1
  pids=$(marked)
  [ -n "$pids" ] || exit 0
  [ $round -ge 9 ] && signal KILL "$pids"
  round=$((round + 1))
done
`;

/** A process named for good: its pid and when it started (ticks since boot), on this boot. */
export interface ProcessId {
  readonly pid: number;
  readonly startTicks: number;
}

/** What <logDir>/hosts/<instance>.json holds. */
export interface HostRecord {
  readonly instance: string;
  readonly bootId: string;
  readonly owner: ProcessId;
  readonly guard: ProcessId;
  /**
   * Whose tasks the guard kills: its own instance, and those of earlier windows taken over after a reload.
   * `since`: when that instance's owner started (no process of it started before).
   */
  readonly guards: readonly GuardedInstance[];
}

export interface GuardedInstance {
  readonly instance: string;
  readonly since: number;
}

/** A live (not zombie) process's id, read now. */
export function processId(pid: number): ProcessId | undefined {
  const info = readProcess(pid);
  return info && !isDead(info) ? { pid, startTicks: info.startTicks } : undefined;
}

/** True while that very process runs (the same pid started at the same tick, not a zombie). */
export function stillRuns(id: ProcessId): boolean {
  return processId(id.pid)?.startTicks === id.startTicks;
}

export function instanceOf(marker: string): string {
  return marker.slice(0, marker.indexOf('.'));
}

let bootIdCache: string | undefined;
export function bootId(): string {
  bootIdCache ??= readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
  return bootIdCache;
}

/** The guard of one manager instance. */
export class OwnerGuard {
  private constructor(
    private readonly child: ChildProcess,
    private readonly recordFile: string,
    private record: HostRecord,
  ) {}

  /** Starts the guard and writes the host record; undefined where it cannot run (no /proc, no /bin/sh). */
  static start(logDir: string, instance: string, graceMs: number): OwnerGuard | undefined {
    if (!hasProcFs || !INSTANCE_PATTERN.test(instance)) return undefined;
    const folder = join(logDir, HOSTS_FOLDER);
    const seconds = String(Math.max(0, Math.ceil(graceMs / 1000)));
    const env = { ...process.env };
    // A guard started inside a task (the CLI run by an agent) must not carry that task's marker.
    delete env[TASK_MARKER_ENV];
    try {
      mkdirSync(folder, { recursive: true });
      const child = spawn('/bin/sh', ['-c', GUARD_SCRIPT, GUARD_NAME, instance, seconds, stoppedFile(logDir, instance)], {
        stdio: ['pipe', 'ignore', 'ignore'],
        detached: true,
        env,
      });
      child.on('error', () => undefined);
      child.stdin?.on('error', () => undefined);
      // Neither the guard nor its pipe keeps this process alive.
      child.unref();
      (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      const owner = processId(process.pid);
      const guard = child.pid === undefined ? undefined : processId(child.pid);
      if (!owner || !guard) {
        child.kill('SIGKILL');
        return undefined;
      }
      const record: HostRecord = { instance, bootId: bootId(), owner, guard, guards: [{ instance, since: owner.startTicks }] };
      const recordFile = join(folder, `${instance}.json`);
      writeRecord(recordFile, record);
      return new OwnerGuard(child, recordFile, record);
    } catch {
      return undefined;
    }
  }

  /**
   * Guards the tasks of an earlier instance too (taken over after a reload); the record says so, so the
   * window after the next reload finds them under this guard.
   */
  watch(taken: GuardedInstance): void {
    if (this.record.guards.some((g) => g.instance === taken.instance) || !INSTANCE_PATTERN.test(taken.instance)) return;
    this.child.stdin?.write(`w ${taken.instance}\n`);
    this.record = { ...this.record, guards: [...this.record.guards, taken] };
    try {
      writeRecord(this.recordFile, this.record);
    } catch {
      // The guard watches them all the same; only a later window would not know it.
    }
  }

  /** The owner lets go of its tasks (a window closing or reloading): the grace starts now. */
  release(): void {
    this.child.stdin?.end();
  }

  /** The owner has killed its tasks itself: the guard ends (nothing is left to guard) and its record goes. */
  dispose(): void {
    this.child.stdin?.end();
    rmSync(this.recordFile, { force: true });
  }
}

/** That very guard still runs, and still waits (it has not begun killing). */
export function isGuard(record: HostRecord): boolean {
  if (!stillRuns(record.guard)) return false;
  try {
    const args = readFileSync(`/proc/${record.guard.pid}/cmdline`, 'latin1').split('\0');
    const at = args.indexOf(GUARD_NAME);
    return at > 0 && args[at + 1]?.split('|')[0] === record.instance;
  } catch {
    return false;
  }
}

/** Tells an earlier instance's guard that its tasks were taken over; false if it is not that guard any more. */
export function standDown(record: HostRecord): boolean {
  if (!isGuard(record)) return false;
  try {
    process.kill(record.guard.pid, 'SIGUSR1');
    return true;
  } catch {
    return false;
  }
}

/** Deletes an earlier instance's record once nothing of it is left to find. */
export function forgetHost(logDir: string, instance: string): void {
  rmSync(join(logDir, HOSTS_FOLDER, `${instance}.json`), { force: true });
  rmSync(stoppedFile(logDir, instance), { force: true });
}

export function stoppedFile(logDir: string, instance: string): string {
  return join(logDir, HOSTS_FOLDER, `${instance}.stopped`);
}

export function readRecord(file: string): HostRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<HostRecord>;
    const ok = (id: Partial<ProcessId> | undefined): boolean => Number.isSafeInteger(id?.pid) && Number.isSafeInteger(id?.startTicks);
    const guarded = (g: Partial<GuardedInstance>): boolean => typeof g.instance === 'string' && INSTANCE_PATTERN.test(g.instance) && Number.isSafeInteger(g.since);
    if (typeof value.instance !== 'string' || !INSTANCE_PATTERN.test(value.instance) || typeof value.bootId !== 'string') return undefined;
    if (!Array.isArray(value.guards) || !value.guards.every(guarded)) return undefined;
    return ok(value.owner) && ok(value.guard) ? (value as HostRecord) : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole and renamed into place: a later window never reads half a record. */
function writeRecord(file: string, record: HostRecord): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(record));
  renameSync(temporary, file);
}

// Tasks outlive a window reload, never their owner. Each manager instance that starts a task also
// starts a guard: a tiny /bin/sh (ownerGuard.sh, about 1.6 MB) in its own session that reads a pipe
// only this process holds. The owner tells it each task's shell (pid and start time) and its launcher's
// process group. Whenever the owner goes away (exits, crashes, is SIGKILLed, its terminal closes) the
// kernel closes that pipe and the guard wakes: after the grace (0 for the CLI; 20 s by default for the
// extension host) it stops the tasks, their groups and every descendant, and whatever carries one of its
// instances' markers, then exits; it exits early once none is left. A later manager of the same log
// folder (the window after a reload) takes the tasks over within the grace (takeOver.ts): it claims
// them, its own guard assumes the duties, and the earlier guard is told to stand down (SIGUSR1), after
// checking by start time that it is still that guard. Each instance leaves a small record in
// <logDir>/hosts/ so a later one can find its owner and guard; nothing is ever identified by pid alone.
// Linux (the table from /proc) and macOS (from `ps`: start times then have one-second steps); not on
// Windows, where tasks are killed when their manager is disposed and a crash leaves them running.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import GUARD_SCRIPT from './ownerGuard.sh';
import { platform } from '../platform';
import { isDead, processTable, psProgram, TASK_MARKER_ENV, type ProcessTable } from './processTable';

/** `$0` of every guard: with its instance right after it, what tells a guard apart from any other shell. */
const GUARD_NAME = 'background-agent-guard';
export const HOSTS_FOLDER = 'hosts';
/** Instance ids (task.ts newInstanceId) are this alphabet only, so they can go into the guard's pattern as they are. */
const INSTANCE_PATTERN = /^[2-9a-z]{6}$/;

/** A process named for good: its pid and when it started (in the process table's encoding), on this boot. */
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
  /** The owner let its tasks go (OwnerGuard.release): they can be taken over even while it still runs. */
  readonly released?: boolean;
}

export interface GuardedInstance {
  readonly instance: string;
  readonly since: number;
}

/** A live (not zombie) process's id, read now; undefined where no guard runs (Windows: nothing to name it for). */
export function processId(pid: number): ProcessId | undefined {
  if (platform.guard === undefined) return undefined;
  const info = processTable.readOne(pid);
  return info && !isDead(info) ? { pid, startTicks: info.startTicks } : undefined;
}

/**
 * Hands `use` the process's id: at once from /proc; from the next `ps` reading elsewhere, so a task's
 * start never waits for a blocking `ps` (many starting together share readings).
 */
export function withProcessId(pid: number, use: (id: ProcessId | undefined) => void): void {
  if (platform.guard === undefined) return use(undefined);
  if (processTable.kind === 'proc') return use(processId(pid));
  const fromTable = async (): Promise<ProcessId | undefined> => {
    for (let attempt = 0; attempt < 2; attempt++) {
      // A shared reading begun before this process existed may not have it: one more.
      const info = (await sharedReading()).get(pid);
      if (info) return isDead(info) ? undefined : { pid, startTicks: info.startTicks };
    }
    return undefined;
  };
  void fromTable().then(use, () => use(undefined));
}

let reading: Promise<ProcessTable> | undefined;
/** Starts of many tasks at once share one reading (a kill never does: it needs one begun after it). */
function sharedReading(): Promise<ProcessTable> {
  reading ??= processTable.read().finally(() => (reading = undefined));
  return reading;
}

/** True while that very process runs (the same pid started at the same tick, not a zombie). */
export function stillRuns(id: ProcessId): boolean {
  return processId(id.pid)?.startTicks === id.startTicks;
}

export function instanceOf(marker: string): string {
  return marker.slice(0, marker.indexOf('.'));
}

export function bootId(): string {
  return processTable.bootId();
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
    const mode = platform.guard;
    if (mode === undefined || !INSTANCE_PATTERN.test(instance)) return undefined;
    const folder = join(logDir, HOSTS_FOLDER);
    const seconds = String(Math.max(0, Math.ceil(graceMs / 1000)));
    const env = { ...process.env };
    // A guard started inside a task (the CLI run by an agent) must not carry that task's marker.
    delete env[TASK_MARKER_ENV];
    try {
      mkdirSync(folder, { recursive: true });
      const args = ['-c', GUARD_SCRIPT, GUARD_NAME, instance, seconds, claimDir(logDir, instance), TASK_MARKER_ENV, mode];
      // The system's tools only (ps, awk, grep, sleep), and no folder of the person's as its own.
      env.PATH = '/usr/bin:/bin:/usr/sbin:/sbin';
      const child = spawn('/bin/sh', args, { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env, cwd: '/' });
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
    this.send(`w ${taken.instance}`);
    this.update({ guards: [...this.record.guards, taken] });
  }

  /** A task's shell: the guard stops it, its group and its descendants even if they lost the marker. */
  track(task: ProcessId): void {
    this.send(`t ${task.pid} ${task.startTicks}`);
  }

  untrack(task: ProcessId): void {
    this.send(`x ${task.pid} ${task.startTicks}`);
  }

  /** The task launcher's process group: a subshell in it may be about to start a task. */
  launcherGroup(launcher: ProcessId): void {
    this.send(`l ${launcher.pid} ${launcher.startTicks}`);
  }

  /** That launcher and every subshell of it are gone: its group id may name someone else's group later. */
  launcherGone(pid: number): void {
    this.send(`y ${pid}`);
  }

  /**
   * The owner lets go of its tasks (a window closing or reloading) but may live on a while: the grace
   * starts now, and the record says a later window may take the tasks over although the owner still runs.
   */
  release(): void {
    this.update({ released: true });
    this.child.stdin?.end();
  }

  /** The owner has stopped its tasks itself: the guard exits at once and its record goes. */
  dispose(): void {
    this.send('q');
    this.child.stdin?.end();
    rmSync(this.recordFile, { force: true });
  }

  private send(line: string): void {
    if (this.child.stdin?.writable) this.child.stdin.write(`${line}\n`);
  }

  private update(change: Partial<HostRecord>): void {
    this.record = { ...this.record, ...change };
    try {
      writeRecord(this.recordFile, this.record);
    } catch {
      // The guard does its work all the same; only a later window would not know.
    }
  }
}

/**
 * Makes this window the one that decides about an earlier owner's tasks: the first to create the claim
 * folder wins, this window or that owner's guard about to stop them. False: the guard got there first.
 */
export function claim(logDir: string, instance: string): boolean {
  try {
    mkdirSync(claimDir(logDir, instance));
    return true;
  } catch {
    return false;
  }
}

/** That very guard still runs, and still waits (it has not begun killing). */
export function isGuard(record: HostRecord): boolean {
  if (!stillRuns(record.guard)) return false;
  return guardInstanceOf(record.guard.pid) === record.instance;
}

/** The instance a guard process was started for (its argument after GUARD_NAME), read from its command line. */
function guardInstanceOf(pid: number): string | undefined {
  try {
    if (platform.guard === 'proc') {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0');
      const at = args.indexOf(GUARD_NAME);
      return at > 0 ? args[at + 1]?.split('|')[0] : undefined;
    }
    // ps joins the arguments with spaces (the script before it shows its newlines as it likes).
    const line = execFileSync(psProgram(), ['-ww', '-o', 'args=', '-p', String(pid)], { encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' }, timeout: 5000 });
    return new RegExp(`${GUARD_NAME} ([2-9a-z]{6})[| ]`).exec(line)?.[1];
  } catch {
    return undefined;
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
  rmSync(claimDir(logDir, instance), { recursive: true, force: true });
}

/** Created by whoever decides about an instance's tasks once its owner is gone (see claim). */
export function claimDir(logDir: string, instance: string): string {
  return join(logDir, HOSTS_FOLDER, `${instance}.claimed`);
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

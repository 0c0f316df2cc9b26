// The one place that starts and kills task processes. Every task runs in the user's shell, in its own
// session and process group, stdin at EOF, stdout and stderr on its log file (never through Node).
// On Linux with `setsid` tasks are started by the shell launcher (shellLauncher.ts: spawning from Node
// costs ~2 ms of blocked main thread per task); elsewhere, or when asked, Node spawns them (directSpawn.ts).
// Killing lives in processTree.ts.
import { accessSync, constants, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { delimiter, join } from 'node:path';
import { DirectProcess, taskShell } from './directSpawn';
import { stillRuns, type ProcessId } from './ownerGuard';
import { platform } from '../platform';
import { exitOfStatus, isShellName, ShellLauncher } from './shellLauncher';
import type { ProcessResult, SpawnMode, StartProcessOptions, TaskProcess } from './types';



export class ProcessRunner {
  private readonly setsid: string | undefined;
  /** The current launcher, and earlier ones whose tasks may still report through them. */
  private launcher: ShellLauncher | undefined;
  private readonly launchers = new Set<ShellLauncher>();

  /**
   * `launchers`: one was started (its pid is its process group), before any task is sent to it; one is
   * gone with every subshell it started.
   */
  constructor(
    mode: SpawnMode = 'auto',
    private readonly launcherEvents: { started(pid: number): void; gone(pid: number): void } = { started: () => undefined, gone: () => undefined },
  ) {
    this.setsid = mode === 'auto' && platform.launcher ? findExecutable('setsid') : undefined;
  }

  start(options: StartProcessOptions): TaskProcess {
    const launcher = this.setsid === undefined || !launchable(options) ? undefined : this.currentLauncher(this.setsid);
    return launcher ? new LaunchedProcess(launcher, options) : new DirectProcess(options);
  }

  dispose(): void {
    for (const launcher of this.launchers) launcher.dispose();
    this.launchers.clear();
    this.launcher = undefined;
  }

  /** Lets go of the launchers without ending their tasks (see ShellLauncher.release). */
  release(): void {
    for (const launcher of this.launchers) launcher.release();
    this.launchers.clear();
    this.launcher = undefined;
  }

  /**
   * Undefined while the inherited environment has a name /bin/sh cannot hold (`a-b`, `x.y`, npm's
   * `npm_config_//host/:_authToken`): dash drops those when it starts, so the launcher's tasks would
   * silently miss them. (Its tasks inherit the environment as it was when the launcher started.)
   */
  private currentLauncher(setsid: string): ShellLauncher | undefined {
    if (!this.launcher?.usable) {
      if (!Object.keys(process.env).every(isShellName)) return undefined;
      this.launcher = new ShellLauncher(setsid, (pid) => this.launcherEvents.gone(pid));
      this.launchers.add(this.launcher);
      if (this.launcher.pid !== undefined) this.launcherEvents.started(this.launcher.pid);
    }
    return this.launcher;
  }
}

/** A task the launcher started: its pid arrives a moment after start, its end as a status line. */
class LaunchedProcess implements TaskProcess {
  readonly started: Promise<number | undefined>;
  private resolveStarted: (pid: number | undefined) => void = () => undefined;
  private knownPid: number | undefined;
  private readonly seq: number;
  private ended = false;

  constructor(
    private readonly launcher: ShellLauncher,
    private readonly options: StartProcessOptions,
  ) {
    this.started = new Promise((resolve) => (this.resolveStarted = resolve));
    this.seq = launcher.launch(
      { shell: taskShell(), command: options.command, cwd: options.cwd, logPath: options.logPath, exitPath: options.exitPath, env: options.env, unsetEnv: options.unsetEnv },
      {
        onStarted: (pid) => {
          this.knownPid = pid;
          this.resolveStarted(pid);
          options.onLatePid(pid);
        },
        onEnded: (result) => this.finish(result),
      },
    );
  }

  get pid(): number | undefined {
    return this.knownPid;
  }

  detach(): void {
    // A start still under way is called off, not only ignored.
    this.launcher.abandon(this.seq);
    this.finish({ exitCode: null, signal: null });
  }

  private finish(result: ProcessResult): void {
    if (this.ended) return;
    this.ended = true;
    this.resolveStarted(this.knownPid);
    this.options.onEnd(result);
  }
}

/** How often a task taken over from an earlier window is looked at (its exit file, then whether it runs). */
const ATTACHED_POLL_MS = 250;
/** A taken-over process that is gone gets this long for its exit file to appear (its waiter writes it then). */
const EXIT_FILE_WAIT_MS = 1000;

/**
 * A task an earlier window started and this one took over after a reload (takeOver.ts). It is not
 * our child: its end comes from its exit file, which the launcher's subshell that still waits for it
 * writes, or, if that never comes, from the process being gone.
 */
export class AttachedProcess implements TaskProcess {
  readonly started: Promise<number | undefined>;
  private readonly timer: NodeJS.Timeout;
  private goneSince: number | undefined;
  private ended = false;

  constructor(
    private readonly id: ProcessId,
    private readonly exitPath: string,
    private readonly onEnd: (result: ProcessResult) => void,
  ) {
    this.started = Promise.resolve(id.pid);
    this.timer = setInterval(() => this.poll(), ATTACHED_POLL_MS);
    this.timer.unref();
  }

  get pid(): number {
    return this.id.pid;
  }

  detach(): void {
    this.finish({ exitCode: null, signal: null });
  }

  private poll(): void {
    const status = readExitStatus(this.exitPath);
    if (status !== undefined) return this.finish(exitOfStatus(status));
    if (stillRuns(this.id)) return;
    this.goneSince ??= Date.now();
    if (Date.now() - this.goneSince < EXIT_FILE_WAIT_MS) return;
    this.finish({ exitCode: null, signal: null, error: 'It ended while no window followed it, and its exit status was lost.' });
  }

  private finish(result: ProcessResult): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.timer);
    this.onEnd(result);
  }
}

/** The status in an exit file (shellLauncher.ts), or undefined while there is none (or it is still being written). */
export function readExitStatus(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'latin1').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}

/** What /bin/sh can be handed as text: no NUL anywhere (Node refuses those too), assignable variable names. */
function launchable(options: StartProcessOptions): boolean {
  const texts = [options.command, options.cwd, options.logPath, options.exitPath ?? '', taskShell(), ...Object.values(options.env)];
  return texts.every((text) => !text.includes('\0')) && [...Object.keys(options.env), ...(options.unsetEnv ?? [])].every(isShellName);
}

function findExecutable(name: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin', '/bin']) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

// ---- SpawnPacer spreads a burst of spawns over event-loop turns. A spawn is synchronous (fork + exec: ~2.5 ms on a quiet
// 2-core machine, 10+ ms under load, and more in a process holding hundreds of MiB, because fork copies
// its page tables), so 200 starts in one loop would freeze the host for half a second or more. Work
// beyond `budgetMs` of spawning in one turn waits for the next turns, oldest first.
/**
 * Spawning time allowed per event-loop turn before further starts wait for the next turns. Matters when
 * Node spawns (directSpawn): a turn lasts up to the budget plus one spawn; with a spawn at 2.5 ms quiet
 * and 10-16 ms on a loaded machine, 4 ms keeps a turn near 20 ms even then. A start through the shell
 * launcher costs microseconds, so a burst is never spread then.
 */
const SPAWN_BUDGET_MS = 4;

export class SpawnPacer<T> {
  private queue: T[] = [];
  private spentMs = 0;
  private nextTurn: NodeJS.Immediate | undefined;

  /** `spawnLater` runs an item that had to wait (its caller already returned). */
  constructor(
    private readonly spawnLater: (item: T) => void,
    private readonly budgetMs = SPAWN_BUDGET_MS,
  ) {}

  /** Runs `spawnNow` at once if this turn's budget allows (returns true), else queues `item` for a later turn. */
  submit(item: T, spawnNow: () => void): boolean {
    if (this.queue.length > 0 || this.spentMs >= this.budgetMs) {
      this.queue.push(item);
      return false;
    }
    this.timed(spawnNow);
    return true;
  }

  /** Drops queued items that must not be spawned any more (cancelled before their turn came). */
  drop(shouldDrop: (item: T) => boolean): void {
    this.queue = this.queue.filter((item) => !shouldDrop(item));
  }

  dispose(): void {
    this.queue = [];
    if (this.nextTurn) clearImmediate(this.nextTurn);
    this.nextTurn = undefined;
  }

  private timed(spawn: () => void): void {
    const began = performance.now();
    try {
      spawn();
    } finally {
      this.spentMs += performance.now() - began;
      // The next turn starts with a fresh budget (and spawns what waited).
      this.nextTurn ??= setImmediate(() => this.turn());
    }
  }

  private turn(): void {
    this.nextTurn = undefined;
    this.spentMs = 0;
    while (this.queue.length > 0 && this.spentMs < this.budgetMs) {
      const item = this.queue.shift() as T;
      this.timed(() => this.spawnLater(item));
    }
  }
}

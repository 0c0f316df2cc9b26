// The one place that starts and kills task processes. Every task runs in the user's shell, in its own
// session and process group, stdin at EOF, stdout and stderr on its log file (never through Node).
// On Linux with `setsid` tasks are started by the shell launcher (shellLauncher.ts: spawning from Node
// costs ~2 ms of blocked main thread per task); elsewhere, or when asked, Node spawns them (directSpawn.ts).
// Killing lives in processKill.ts and is re-exported from here.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { DirectProcess, taskShell } from './directSpawn';
import { isShellName } from './launchScript';
import type { ProcessResult, StartProcessOptions, TaskProcess } from './processResult';
import { ShellLauncher } from './shellLauncher';

export { killTreesNow, terminateTrees, type KillTarget } from './processKill';
export type { ProcessResult, StartProcessOptions, TaskProcess } from './processResult';

/** `auto`: the launcher where it can run; `direct`: always spawn from Node (the fallback, also for tests). */
export type SpawnMode = 'auto' | 'direct';

export class ProcessRunner {
  private readonly setsid: string | undefined;
  /** The current launcher, and earlier ones whose tasks may still report through them. */
  private launcher: ShellLauncher | undefined;
  private readonly launchers = new Set<ShellLauncher>();

  constructor(mode: SpawnMode = 'auto') {
    this.setsid = mode === 'auto' && process.platform === 'linux' ? findExecutable('setsid') : undefined;
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

  /**
   * Undefined while the inherited environment has a name /bin/sh cannot hold (`a-b`, `x.y`, npm's
   * `npm_config_//host/:_authToken`): dash drops those when it starts, so the launcher's tasks would
   * silently miss them. (Its tasks inherit the environment as it was when the launcher started.)
   */
  private currentLauncher(setsid: string): ShellLauncher | undefined {
    if (!this.launcher?.usable) {
      if (!Object.keys(process.env).every(isShellName)) return undefined;
      this.launcher = new ShellLauncher(setsid);
      this.launchers.add(this.launcher);
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
      { shell: taskShell(), command: options.command, cwd: options.cwd, logPath: options.logPath, env: options.env, unsetEnv: options.unsetEnv },
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

/** What /bin/sh can be handed as text: no NUL anywhere (Node refuses those too), assignable variable names. */
function launchable(options: StartProcessOptions): boolean {
  const texts = [options.command, options.cwd, options.logPath, taskShell(), ...Object.values(options.env)];
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

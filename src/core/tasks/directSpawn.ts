// Starting a task from Node itself: where the shell launcher cannot run (Windows, macOS without
// `setsid`, an environment variable name /bin/sh cannot assign) or when asked to. The child gets the log
// file as stdout and stderr, so its output still never passes through Node and keeps its exact order.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { platform } from '../platform';
import { exitOfStatus } from './shellLauncher';
import type { ProcessResult, StartProcessOptions, TaskProcess } from './types';
import { longScriptPathOf, powershellPath, windowsShellArgs } from './windowsShell';

const isWindows = platform.windows;

let loginShell: string | undefined;

/**
 * The user's shell for `-c`: `$SHELL`, else the login shell from the password database (what VS Code's
 * terminal does too: CI runners and containers often start without `$SHELL`), else /bin/sh. A login
 * shell that refuses commands (`/bin/false`, `nologin`) counts as none.
 */
export function userShell(): string {
  if (process.env.SHELL) return process.env.SHELL;
  loginShell ??= passwordShell() ?? '/bin/sh';
  return loginShell;
}

function passwordShell(): string | undefined {
  try {
    const shell = userInfo().shell;
    return shell && !/(^|\/)(false|nologin)$/.test(shell) ? shell : undefined;
  } catch {
    return undefined; // no entry for this uid (a container run with an arbitrary --user)
  }
}

/** The program that runs every task's command line: the user's shell, or Windows PowerShell on Windows. */
export function taskShell(): string {
  return isWindows ? powershellPath(process.env) : userShell();
}

function shellArgs(command: string, logPath: string): { file: string; args: string[] } {
  if (!isWindows) return { file: taskShell(), args: ['-c', command] };
  // powershell.exe with the command as base64 (windowsShell.ts): nothing to quote. A command too long for
  // Windows' command line goes to a script file beside its log.
  const launch = windowsShellArgs(command, process.env, longScriptPathOf(logPath));
  if (launch.scriptFile) writeFileSync(launch.scriptFile.path, launch.scriptFile.text);
  return launch;
}

/**
 * The shell wrapped in /bin/sh that writes the exit status to `exitPath` once it ends, as the launcher's
 * subshell does: a later window (after a reload) learns the real exit code from it. The wrapper exits
 * with that status, so 128+n means killed by signal n here too (exitOfStatus). The command's stderr is
 * the log (fd 3); the wrapper's own is /dev/null, so what /bin/sh says about a killed child stays out.
 */
const EXIT_FILE_WRAPPER = '"$0" -c "$1" 2>&3 3>&-; s=$?; { echo $s >"$2"; } 2>/dev/null; exit $s';

export class DirectProcess implements TaskProcess {
  readonly started: Promise<number | undefined>;
  private readonly child: ChildProcess | undefined;
  private ended = false;

  constructor(private readonly options: StartProcessOptions) {
    const wrapped = options.exitPath !== undefined && !isWindows;
    let child: ChildProcess | undefined;
    let fd: number | undefined;
    try {
      const { file, args } = wrapped ? { file: '/bin/sh', args: ['-c', EXIT_FILE_WRAPPER, taskShell(), options.command, options.exitPath as string] } : shellArgs(options.command, options.logPath);
      fd = openSync(options.logPath, 'w');
      child = spawn(file, args, {
        cwd: options.cwd,
        env: taskEnvironment(options),
        // Wrapped: stderr to /dev/null, the log again as fd 3 for the command's stderr (EXIT_FILE_WRAPPER).
        stdio: wrapped ? ['ignore', fd, 'ignore', fd] : ['ignore', fd, fd],
        detached: !isWindows,
        windowsHide: true,
      });
    } catch (error) {
      // Invalid arguments (e.g. a NUL byte in the command) throw synchronously; report like any spawn error.
      queueMicrotask(() => this.finish({ exitCode: null, signal: null, error: describeError(error) }));
    } finally {
      // The child has its own copy of the descriptor now.
      if (fd !== undefined) closeSync(fd);
    }
    this.child = child;
    this.started = Promise.resolve(child?.pid);
    if (!child) return;
    child.on('error', (error) => {
      // Without a pid the process never started; otherwise it is a failed kill, which the killer handles.
      if (child.pid === undefined) this.finish({ exitCode: null, signal: null, error: describeError(error) });
    });
    child.once('exit', (exitCode, signal) => this.finish(wrapped && exitCode !== null ? exitOfStatus(exitCode) : { exitCode, signal }));
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  detach(): void {
    this.finish({ exitCode: null, signal: null });
  }

  private finish(result: ProcessResult): void {
    if (this.ended) return;
    this.ended = true;
    this.child?.removeAllListeners('exit');
    this.options.onEnd(result);
  }
}

function taskEnvironment(options: StartProcessOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  for (const name of options.unsetEnv ?? []) delete env[name];
  return env;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// How a task's command runs on Windows: in Windows PowerShell 5.1, which every Windows 10/11 has, found
// under the system folder only (never through PATH, so a workspace cannot put its own powershell.exe
// first). cmd.exe ran only the first line of a multi-line command; PowerShell reads them all.
//
// The script travels as base64 (of UTF-16LE), so no quoting of the command line can change it: a fixed
// `-Command` starter decodes it and runs it with Invoke-Expression, in the top-level scope. Not
// -EncodedCommand: with an encoded command and stderr redirected (the log), PowerShell 5.1 writes its
// error stream as CLIXML (`#< CLIXML <Objs…>`), which would make every error unreadable in the log.
// Around the command, the script:
//   - makes output UTF-8 (no BOM): the console's and the one PowerShell pipes into native programs;
//   - silences progress records (bars drawn into a log file are only noise);
//   - writes the command's lines as they are, at the top level of the script. Not in a script block
//     (`& { … }`): there `$?` after the block says whether the block ran, not whether its last command
//     succeeded, and the command's variables and functions would live in a child scope;
//   - then sets the exit code. At the top level, an `exit N` in the command ends PowerShell with N before
//     the lines after it run, so it always wins. Otherwise the status is the last command's, as in
//     bash: `$?` (the first thing read after the command, before anything else can change it) is true →
//     0; false → `$LASTEXITCODE` when a native program ran (it starts out $null), else 1 (a failed
//     cmdlet). A native program's own code wins even when it is 0 with `$?` false: PowerShell 5.1 turns
//     a native program's stderr lines into error records when its stderr is redirected, and git, npm or
//     cargo write progress there; a success must not read as a failure. The price: a cmdlet that fails
//     last after a native program succeeded gives 0 (its error is in the log).
//     Without this tail powershell.exe ends with 1 for any failure, never with the program's own code.
// Windows' command line holds 32,767 characters; a command whose base64 would not fit (about 11,000
// characters) is written to a script file beside the task's log, which the starter reads instead.
//   An empty line separates the command from that tail: a command ending in a line continuation (a
//   backtick) or an unfinished statement then cannot swallow the tail's first line into itself.
import * as path from 'node:path';

/** The parts of powershell.exe's command line before the script. */
export const POWERSHELL_OPTIONS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass'] as const;

/** The Windows folder (SystemRoot, else WINDIR, else C:\Windows): where system programs are taken from, never PATH. */
export function windowsFolder(env: NodeJS.ProcessEnv): string {
  return [envValue(env, 'SystemRoot'), envValue(env, 'WINDIR')].find((value) => value !== undefined && isAbsoluteWindowsPath(value)) ?? 'C:\\Windows';
}

/** `%SystemRoot%\System32\WindowsPowerShell\v1.0\powershell.exe`. */
export function powershellPath(env: NodeJS.ProcessEnv): string {
  return path.win32.join(windowsFolder(env), 'System32', 'WindowsPowerShell', 'v1.0', 'powershell.exe');
}

/** `%SystemRoot%\System32\taskkill.exe`. */
export function taskkillPath(env: NodeJS.ProcessEnv): string {
  return path.win32.join(windowsFolder(env), 'System32', 'taskkill.exe');
}

/** The fixed `-Command` text around the base64 script: only base64 goes between them. */
export const STARTER_HEAD = "Invoke-Expression ([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('";
export const STARTER_TAIL = "')))";

/** The script powershell.exe runs for `command` (see the top of this file). */
export function powershellScript(command: string): string {
  return [
    "$ProgressPreference = 'SilentlyContinue'",
    '[Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false',
    '$OutputEncoding = [Console]::OutputEncoding',
    '$global:LASTEXITCODE = $null',
    command,
    '',
    'if ($?) { exit 0 }',
    'if ($null -ne $LASTEXITCODE) { exit $LASTEXITCODE }',
    'exit 1',
  ].join('\r\n');
}

/** Base64 beyond this would not fit Windows' command line (32,767 characters with the program and options). */
export const MAX_INLINE_SCRIPT = 30_000;

export interface WindowsLaunch {
  readonly file: string;
  readonly args: string[];
  /** A script too long for the command line: to be written (UTF-8) at `path` before the start. */
  readonly scriptFile?: { readonly path: string; readonly text: string };
}

/** Where a task's script goes when it is too long for the command line: beside its log (deleted with it). */
export function longScriptPathOf(logPath: string): string {
  return `${logPath}.ps1`;
}

/** The program and arguments that run `command` on Windows; `scriptPath`: where a long script goes. */
export function windowsShellArgs(command: string, env: NodeJS.ProcessEnv, scriptPath?: string): WindowsLaunch {
  const script = powershellScript(command);
  const encoded = Buffer.from(script, 'utf16le').toString('base64');
  const file = powershellPath(env);
  if (encoded.length <= MAX_INLINE_SCRIPT || scriptPath === undefined) return { file, args: [...POWERSHELL_OPTIONS, '-Command', `${STARTER_HEAD}${encoded}${STARTER_TAIL}`] };
  // The path as base64 too: PowerShell takes ‘ ’ ‚ ‛ for quotes as well, and a folder may be named with them.
  const path64 = Buffer.from(scriptPath, 'utf16le').toString('base64');
  const starter = `Invoke-Expression ([IO.File]::ReadAllText([Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('${path64}')), [Text.Encoding]::UTF8))`;
  return { file, args: [...POWERSHELL_OPTIONS, '-Command', starter], scriptFile: { path: scriptPath, text: script } };
}

/** Windows spells variable names in any case; a copied environment object does not look them up that way. */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  if (env[name]) return env[name];
  const key = Object.keys(env).find((candidate) => candidate.toLowerCase() === name.toLowerCase() && env[candidate]);
  return key === undefined ? undefined : env[key];
}

/** A drive's root or a UNC share: a relative value (`.`, `Windows`) would be looked up from the task's folder. */
function isAbsoluteWindowsPath(value: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(value) || /^[\\/]{2}[^\\/]+[\\/][^\\/]+/.test(value);
}

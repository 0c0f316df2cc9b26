// The text the shell launcher (shellLauncher.ts) reads and writes: one line of /bin/sh per task going in,
// one short status line per event coming out. Pure functions, so the quoting is tested without processes.
import { constants } from 'node:os';

export interface LaunchSpec {
  /** The launcher's number for this task (only digits reach the shell and come back). */
  readonly seq: number;
  readonly shell: string;
  readonly command: string;
  readonly cwd: string;
  readonly logPath: string;
  /** Variables added to the task's environment; names must pass `isShellName`. */
  readonly env: Readonly<Record<string, string>>;
  /** Inherited variables the task does not get; names must pass `isShellName`. */
  readonly unsetEnv?: readonly string[];
  /** Absolute path of `setsid`: the task gets its own session and process group, like Node's `detached`. */
  readonly setsid: string;
}

/** Quotes any text (without NUL) as one /bin/sh word: single quotes, each `'` written as `'\''`. */
export function quoteForSh(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** A name /bin/sh accepts in a `NAME=value command` assignment. */
export function isShellName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/**
 * One task for the launcher. A background subshell (so the launcher itself never waits) changes folder,
 * starts the command through `setsid` with stdout and stderr on the log file and stdin at EOF, reports
 * the pid, waits for it and reports its status. The output never passes through Node.
 *   s <seq> <pid>      the subshell (killed if the task is given up before it started)
 *   p <seq> <pid>      started       e <seq> <status>   exited (128+n: killed by signal n)
 *   l <seq>            the log file could not be created    c <seq>   the folder could not be entered
 * (after `l` or `c` nothing ran)
 */
export function launchLine(spec: LaunchSpec): string {
  const q = quoteForSh;
  const assignments = Object.entries(spec.env).map(([name, value]) => `${name}=${q(value)} `).join('');
  // The log is created here, off Node's main thread (a create is ~75 µs there, 15 ms for a burst of 200),
  // then opened without O_TRUNC (`1<>`): truncating an existing file makes ext4 flush it early
  // (auto_da_alloc), which measured 1.6x slower for a 1 GiB flood.
  const log = `: >${q(spec.logPath)} 2>/dev/null || { echo "l ${spec.seq}"; exit; }`;
  const run = `${assignments}${q(spec.setsid)} ${q(spec.shell)} -c ${q(spec.command)} 1<>${q(spec.logPath)} 2>&1 </dev/null &`;
  const cd = `cd ${q(spec.cwd)} 2>/dev/null || { echo "c ${spec.seq}"; exit; }`;
  // In the subshell only: the launcher and the next tasks keep them.
  const unset = spec.unsetEnv?.length ? `unset ${spec.unsetEnv.join(' ')}; ` : '';
  return `(${log}; ${cd}; ${unset}${run} echo "p ${spec.seq} $!"; wait $!; echo "e ${spec.seq} $?") </dev/null & echo "s ${spec.seq} $!"\n`;
}

/**
 * Makes the launcher collect the subshells that have finished. A non-interactive dash never reaps
 * background jobs on its own (they would pile up as zombies); `jobs` does.
 */
export const REAP_LINE = 'jobs >/dev/null\n';

export type LauncherReport =
  | { readonly kind: 'forked'; readonly seq: number; readonly pid: number }
  | { readonly kind: 'started'; readonly seq: number; readonly pid: number }
  | { readonly kind: 'exited'; readonly seq: number; readonly status: number }
  | { readonly kind: 'no-folder'; readonly seq: number }
  | { readonly kind: 'no-log'; readonly seq: number };

export function parseReport(line: string): LauncherReport | undefined {
  const [kind, seqText, value] = line.split(' ');
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq)) return undefined;
  if (kind === 's' && /^\d+$/.test(value ?? '')) return { kind: 'forked', seq, pid: Number(value) };
  if (kind === 'p' && /^\d+$/.test(value ?? '')) return { kind: 'started', seq, pid: Number(value) };
  if (kind === 'e' && /^\d+$/.test(value ?? '')) return { kind: 'exited', seq, status: Number(value) };
  if (kind === 'c') return { kind: 'no-folder', seq };
  if (kind === 'l') return { kind: 'no-log', seq };
  return undefined;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

/**
 * A shell's wait status as Node reports an exit: 128+n means killed by signal n. (A command that itself
 * ran `exit 130` reads as SIGINT too; shells cannot tell them apart either.)
 */
export function exitOfStatus(status: number): { exitCode: number | null; signal: NodeJS.Signals | null } {
  const signal = status > 128 ? signalNames.get(status - 128) : undefined;
  return signal ? { exitCode: null, signal } : { exitCode: status, signal: null };
}

// The process table: every process's pid, parent, group, state and start time, and our task marker in
// its environment where the system shows environments. One source per system (platform.ts chooses):
//   proc  Linux: /proc/<pid>/stat and /proc/<pid>/environ, read directly (no process started).
//   ps    macOS: `ps -A -o pid=,ppid=,pgid=,stat=,lstart=`; environments from `ps -E` (macOS) or `ps e`
//         (Linux procps, when this source runs on Linux in tests). Start times have one-second resolution.
//   cim   Windows: Win32_Process through PowerShell (pid, parent pid, creation time); no groups, no
//         environments. A parent pid there is never updated when the parent exits, and may name a newer
//         process that got the same pid: the start times tell them apart (killPlan.ts).
// The parsers are pure and exported, so recorded outputs of each system are tested on any system.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { platform, type Platform } from '../platform';
import { powershellPath } from './windowsShell';

/** Set in every task's environment as `<instance>.<task id>`; descendants inherit it. */
export const TASK_MARKER_ENV = 'BACKGROUND_AGENT_TASK_ID';

export interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  /** Process group (Windows has none: the pid). */
  readonly pgid: number;
  /** One letter: Z = zombie (dead, waiting to be reaped), X = dead; anything else runs. */
  readonly state: string;
  /**
   * When it started, as a number that only orders and identifies (with the pid, names one process for good:
   * pids are reused): ticks since boot (proc), UTC YYYYMMDDhhmmss (ps), ms since the epoch (cim).
   */
  readonly startTicks: number;
}

export type ProcessTable = ReadonlyMap<number, ProcessInfo>;

export function isDead(info: ProcessInfo | undefined): boolean {
  return info === undefined || info.state === 'Z' || info.state === 'X';
}

/** Which markers a search wants. */
export type MarkerFilter = ReadonlySet<string> | ((marker: string) => boolean);

export interface ProcessTableSource {
  readonly kind: Platform['processSource'];
  /** Every process now, without blocking the event loop. */
  read(): Promise<Map<number, ProcessInfo>>;
  /** The same, blocking: only where there is no time to wait (shutdown). */
  readSync(): Map<number, ProcessInfo>;
  /** One process now, blocking (cheap on /proc; a `ps -p` elsewhere). */
  readOne(pid: number): ProcessInfo | undefined;
  /**
   * Live processes whose environment carries a wanted marker, with that marker (none where environments
   * cannot be read). `bornAfterPid`: a hint that older processes cannot carry it (used where pids grow, /proc).
   */
  marked(wanted: MarkerFilter, bornAfterPid?: number): Promise<Map<number, string>>;
  markedSync(wanted: MarkerFilter): Map<number, string>;
  /** What tells this boot (or this pid namespace) apart from the next: start times are only valid within it. */
  bootId(): string;
  /** A moment (ms since the epoch) in this source's start encoding; undefined where starts are not clock times (proc). */
  startOf(ms: number): number | undefined;
}

function wants(wanted: MarkerFilter): (marker: string) => boolean {
  return typeof wanted === 'function' ? wanted : (marker) => wanted.has(marker);
}

// ---- Parsers (pure).

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so split after the last ')'. */
export function parseStat(text: string): ProcessInfo | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  const pid = Number.parseInt(text, 10);
  return { pid, state: fields[0], ppid: Number(fields[1]), pgid: Number(fields[2]), startTicks: Number(fields[19]) };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Wed Dec  2 00:59:00 2026` (ps's lstart in the C locale, UTC) as YYYYMMDDhhmmss; NaN if it is not one. */
export function lstartNumber(lstart: string): number {
  const match = /^\w{3} (\w{3}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/.exec(lstart.trim());
  const month = match ? MONTHS.indexOf(match[1]) + 1 : 0;
  if (!match || month === 0) return Number.NaN;
  const [, , day, hh, mm, ss, year] = match;
  return Number(`${year}${String(month).padStart(2, '0')}${day.padStart(2, '0')}${hh}${mm}${ss}`);
}

/** A moment (ms since the epoch) in ps's start encoding, to compare with a process's start. */
export function psStartOf(ms: number): number {
  return Number(new Date(ms).toISOString().replace(/\D/g, '').slice(0, 14));
}

/** A moment in the CIM source's start encoding (ms since the epoch, as it is). */
export function cimStartOf(ms: number): number {
  return ms;
}

/** Lines of `ps -A -o pid=,ppid=,pgid=,stat=,lstart=` (TZ=UTC, LC_ALL=C). */
export function parsePsTable(text: string): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  for (const line of text.split('\n')) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(.+)$/.exec(line);
    if (!match) continue;
    const startTicks = lstartNumber(match[5]);
    if (Number.isNaN(startTicks)) continue;
    const pid = Number(match[1]);
    table.set(pid, { pid, ppid: Number(match[2]), pgid: Number(match[3]), state: match[4][0], startTicks });
  }
  return table;
}

/**
 * Lines of `ps -A -E -ww -o pid=,command=` (macOS) or `ps -A -ww -o pid=,command= e` (procps): the
 * environment follows the command, space-separated. The marker is the last `NAME=<instance>.<task>` word
 * (the environment comes after the arguments); a process that merely names a marker in its arguments
 * would be taken for a carrier: only processes of the same user, and only with that exact marker.
 */
export function parsePsEnvironment(text: string, wanted: MarkerFilter): Map<number, string> {
  const accept = wants(wanted);
  const pattern = new RegExp(`(?:^|\\s)${TASK_MARKER_ENV}=([2-9a-z]{6}\\.[\\w-]+)(?=\\s|$)`, 'g');
  const found = new Map<number, string>();
  for (const line of text.split('\n')) {
    const pid = Number.parseInt(line, 10);
    if (!Number.isSafeInteger(pid)) continue;
    let marker: string | undefined;
    for (const match of line.slice(line.search(/\d/) + String(pid).length).matchAll(pattern)) marker = match[1];
    if (marker !== undefined && accept(marker)) found.set(pid, marker);
  }
  return found;
}

/**
 * What the CIM source runs: one line per process, `<pid> <parent pid> <creation time, UTC yyyyMMddHHmmssfff>`
 * (0 when Windows does not say, e.g. the System Idle Process).
 */
export const CIM_SCRIPT =
  "Get-CimInstance -ClassName Win32_Process | ForEach-Object { '{0} {1} {2}' -f $_.ProcessId, $_.ParentProcessId, $(if ($_.CreationDate) { $_.CreationDate.ToUniversalTime().ToString('yyyyMMddHHmmssfff') } else { '0' }) }";

export function parseCimTable(text: string): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(\d+)\s+(\d+)\s+(\d{17}|0)\s*$/.exec(line);
    if (!match) continue;
    const pid = Number(match[1]);
    table.set(pid, { pid, ppid: Number(match[2]), pgid: pid, state: 'R', startTicks: cimTime(match[3]) });
  }
  return table;
}

/** yyyyMMddHHmmssfff (UTC) as ms since the epoch: as one number it would pass 2^53 and lose its last digits. */
function cimTime(text: string): number {
  if (text === '0') return 0;
  const part = (from: number, to: number) => Number(text.slice(from, to));
  return Date.UTC(part(0, 4), part(4, 6) - 1, part(6, 8), part(8, 10), part(10, 12), part(12, 14), part(14, 17));
}

/** The marker in a NUL-separated environment (/proc/<pid>/environ). */
export function markerIn(env: Buffer): string | undefined {
  const key = `${TASK_MARKER_ENV}=`;
  let at = env.indexOf(key);
  // Must start a NUL-separated entry, not sit inside another variable's value.
  while (at > 0 && env[at - 1] !== 0) at = env.indexOf(key, at + 1);
  if (at < 0) return undefined;
  const from = at + key.length;
  const end = env.indexOf(0, from);
  return env.toString('latin1', from, end < 0 ? env.length : end);
}

// ---- Linux: /proc.

/** Reads of /proc in flight at once: a full synchronous pass would block the event loop, one at a time is slow. */
const READS_IN_FLIGHT = 16;

/** Runs `work` over `items`, READS_IN_FLIGHT at a time, until `done()` (checked between batches). */
export async function inBatches<T>(items: readonly T[], work: (item: T) => Promise<void>, done: () => boolean = () => false): Promise<void> {
  for (let i = 0; i < items.length && !done(); i += READS_IN_FLIGHT) await Promise.all(items.slice(i, i + READS_IN_FLIGHT).map(work));
}

function isPidName(name: string): boolean {
  const first = name.charCodeAt(0);
  return first >= 48 && first <= 57;
}

class ProcSource implements ProcessTableSource {
  readonly kind = 'proc';
  private boot: string | undefined;

  readOne(pid: number): ProcessInfo | undefined {
    try {
      return parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    } catch {
      return undefined;
    }
  }

  readSync(): Map<number, ProcessInfo> {
    const table = new Map<number, ProcessInfo>();
    for (const name of readdirSync('/proc')) {
      if (!isPidName(name)) continue;
      const info = this.readOne(Number(name));
      if (info) table.set(info.pid, info);
    }
    return table;
  }

  async read(): Promise<Map<number, ProcessInfo>> {
    const table = new Map<number, ProcessInfo>();
    const pids = (await readdir('/proc').catch(() => [])).filter(isPidName);
    await inBatches(pids, async (pid) => {
      const info = parseStat(await readFile(`/proc/${pid}/stat`, 'latin1').catch(() => ''));
      if (info) table.set(info.pid, info);
    });
    return table;
  }

  private markerOf(pid: number): string | undefined {
    try {
      return markerIn(readFileSync(`/proc/${pid}/environ`));
    } catch {
      return undefined;
    }
  }

  /**
   * Read without blocking the event loop (a full synchronous read of /proc takes 35-55 ms with ~450
   * processes here). Zombies have no environment left. Only pids above `bornAfterPid` are read, unless
   * pids wrapped around since (the last pid handed out is then below it): then all are.
   */
  async marked(wanted: MarkerFilter, bornAfterPid = 0): Promise<Map<number, string>> {
    const accept = wants(wanted);
    const lastPid = Number(await readFile('/proc/sys/kernel/ns_last_pid', 'latin1').catch(() => '0'));
    const floor = lastPid >= bornAfterPid ? bornAfterPid : 0;
    const pids = (await readdir('/proc')).filter(isPidName).map(Number).filter((pid) => pid > floor);
    const found = new Map<number, string>();
    // A few reads in flight at a time: hundreds of completions in one turn would block it just the same.
    await inBatches(pids, async (pid) => {
      if (pid === process.pid || pid === 1) return;
      const env = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
      const marker = env && markerIn(env);
      if (marker !== undefined && accept(marker)) found.set(pid, marker);
    });
    return found;
  }

  markedSync(wanted: MarkerFilter): Map<number, string> {
    const accept = wants(wanted);
    const found = new Map<number, string>();
    for (const name of readdirSync('/proc')) {
      if (!isPidName(name)) continue;
      const pid = Number(name);
      if (pid === process.pid || pid === 1) continue;
      const marker = this.markerOf(pid);
      if (marker !== undefined && accept(marker)) found.set(pid, marker);
    }
    return found;
  }

  bootId(): string {
    this.boot ??= readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    return this.boot;
  }

  startOf(): undefined {
    return undefined;
  }
}

/** Whether a pid exists (a zombie does; EPERM: someone else's, which exists). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// ---- macOS: ps.

/** C locale and UTC, so lstart reads the same everywhere. */
const PS_ENV = { ...process.env, LC_ALL: 'C', TZ: 'UTC' };
const PS_TABLE_ARGS = ['-A', '-o', 'pid=,ppid=,pgid=,stat=,lstart='];
/** Environments: macOS's `-E`; Linux procps refuses it ("unsupported SysV option") and takes BSD `e`. */
const PS_ENV_ARGS = [['-A', '-E', '-ww', '-o', 'pid=,command='], ['-A', '-ww', '-o', 'pid=,command=', 'e']];
/** A reading that takes longer has hung (WMI can): it counts as failed, and the kill goes on without it. */
const TABLE_TIMEOUT_MS = 10_000;
/** A blocking CIM reading (at shutdown) waits less: VS Code gives deactivation a few seconds. */
const SYNC_CIM_TIMEOUT_MS = 3000;
/** A table of thousands of processes with their environments runs to megabytes. */
const PS_MAX_BUFFER = 64 * 1024 * 1024;

/** ps where the system keeps it (not through PATH, which a folder's tools may precede). */
export function psProgram(): string {
  return ['/bin/ps', '/usr/bin/ps'].find((file) => existsSync(file)) ?? 'ps';
}

/** How long a full reading answers readOne: every followed task asks four times a second (processRunner.ts). */
const PS_SNAPSHOT_MS = 1000;

class PsSource implements ProcessTableSource {
  readonly kind = 'ps';
  private readonly ps = psProgram();
  /** Which of PS_ENV_ARGS this ps takes, once known. */
  private envArgs: string[] | undefined;
  private boot: string | undefined;
  private snapshot: { readonly at: number; readonly table: Map<number, ProcessInfo> } | undefined;

  async read(): Promise<Map<number, ProcessInfo>> {
    return this.keep(parsePsTable(await this.run(PS_TABLE_ARGS).catch(() => '')));
  }

  readSync(): Map<number, ProcessInfo> {
    return this.keep(parsePsTable(this.runSync(PS_TABLE_ARGS) ?? ''));
  }

  /**
   * Each look is a blocking `ps`, so it is spared where it can be: a pid that does not exist needs none; one
   * in a reading younger than a second is answered from it (pollers of many tasks share one `ps -A` a second).
   */
  readOne(pid: number): ProcessInfo | undefined {
    if (!exists(pid)) return undefined;
    if (this.snapshot === undefined || Date.now() - this.snapshot.at > PS_SNAPSHOT_MS) this.readSync();
    const known = this.snapshot?.table.get(pid);
    if (known) return known;
    // Newer than the reading (a task that just started): `ps -p` exits 1 when it is gone by now, an answer too.
    return parsePsTable(this.runSync(['-o', 'pid=,ppid=,pgid=,stat=,lstart=', '-p', String(pid)]) ?? '').get(pid);
  }

  private keep(table: Map<number, ProcessInfo>): Map<number, ProcessInfo> {
    this.snapshot = { at: Date.now(), table };
    return table;
  }

  async marked(wanted: MarkerFilter): Promise<Map<number, string>> {
    return this.ownFiltered(parsePsEnvironment(await this.environments().catch(() => ''), wanted));
  }

  markedSync(wanted: MarkerFilter): Map<number, string> {
    for (const args of this.envArgs ? [this.envArgs] : PS_ENV_ARGS) {
      const text = this.runSync(args, true);
      if (text === undefined) continue;
      this.envArgs = args;
      return this.ownFiltered(parsePsEnvironment(text, wanted));
    }
    return new Map();
  }

  bootId(): string {
    // When pid 1 started: the boot (or, in a container, the pid namespace) that start times belong to.
    this.boot ??= `ps:${this.readOne(1)?.startTicks ?? 'unknown'}`;
    return this.boot;
  }

  startOf(ms: number): number {
    return psStartOf(ms);
  }

  private ownFiltered(found: Map<number, string>): Map<number, string> {
    found.delete(process.pid);
    found.delete(1);
    return found;
  }

  private async environments(): Promise<string> {
    if (this.envArgs) return this.run(this.envArgs);
    for (const args of PS_ENV_ARGS) {
      const text = await this.run(args).catch(() => undefined);
      if (text === undefined) continue;
      this.envArgs = args;
      return text;
    }
    return '';
  }

  private run(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(this.ps, args, { env: PS_ENV, maxBuffer: PS_MAX_BUFFER, encoding: 'latin1', timeout: TABLE_TIMEOUT_MS }, (error, stdout) => {
        // Exit status 1 with output: some pid vanished meanwhile; the rest is still the table. Killed (timed
        // out): what came may be half of it, which must not read as "the others are gone".
        if (error && (!stdout || error.killed || error.signal)) reject(error);
        else resolve(stdout);
      });
    });
  }

  /** `strict`: a failing ps means this form is not understood (undefined), not an empty answer. */
  private runSync(args: readonly string[], strict = false): string | undefined {
    try {
      return execFileSync(this.ps, args, { env: PS_ENV, maxBuffer: PS_MAX_BUFFER, encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'], timeout: TABLE_TIMEOUT_MS });
    } catch (error) {
      const { stdout, signal } = error as { stdout?: string; signal?: string };
      if (signal) return strict ? undefined : ''; // timed out: half a table is no table
      return strict && !stdout ? undefined : stdout ?? '';
    }
  }
}

// ---- Windows: CIM through PowerShell.

const CIM_ARGS = ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', CIM_SCRIPT];

class CimSource implements ProcessTableSource {
  readonly kind = 'cim';

  read(): Promise<Map<number, ProcessInfo>> {
    return new Promise((resolve) => {
      execFile(powershellPath(process.env), CIM_ARGS, { windowsHide: true, maxBuffer: PS_MAX_BUFFER, timeout: TABLE_TIMEOUT_MS }, (error, stdout) => resolve(error ? new Map() : parseCimTable(stdout ?? '')));
    });
  }

  readSync(): Map<number, ProcessInfo> {
    try {
      // Blocking (shutdown): not long; after it, the kill goes on without a snapshot (taskkill /T).
      return parseCimTable(execFileSync(powershellPath(process.env), CIM_ARGS, { windowsHide: true, maxBuffer: PS_MAX_BUFFER, encoding: 'latin1', stdio: ['ignore', 'pipe', 'ignore'], timeout: SYNC_CIM_TIMEOUT_MS }));
    } catch {
      return new Map();
    }
  }

  readOne(pid: number): ProcessInfo | undefined {
    return this.readSync().get(pid);
  }

  async marked(): Promise<Map<number, string>> {
    return new Map();
  }

  markedSync(): Map<number, string> {
    return new Map();
  }

  bootId(): string {
    // The System process (pid 4) starts with Windows.
    return `cim:${this.readOne(4)?.startTicks ?? 'unknown'}`;
  }

  startOf(ms: number): number {
    return cimStartOf(ms);
  }
}

export function sourceFor(kind: Platform['processSource']): ProcessTableSource {
  return kind === 'proc' ? new ProcSource() : kind === 'ps' ? new PsSource() : new CimSource();
}

/** This system's process table. */
export const processTable: ProcessTableSource = sourceFor(platform.processSource);

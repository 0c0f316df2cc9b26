// What the engine (tasks, files) may count on from the system it runs on, decided once, in one place: every
// other module asks this object instead of looking at `process.platform` itself. A test that imports
// test/support/pretendDarwin.ts first gets the macOS answers on Linux (no /proc: the process table
// comes from `ps`, as it does on a Mac).
import { existsSync } from 'node:fs';

/** Where the process table comes from: Linux's /proc, `ps` (macOS, BSD), or CIM through PowerShell (Windows). */
export type ProcessSource = 'proc' | 'ps' | 'cim';

export interface Platform {
  readonly os: NodeJS.Platform;
  readonly windows: boolean;
  readonly processSource: ProcessSource;
  /**
   * Whether another process's environment can be read, and so our task marker: /proc and `ps -E` show
   * those of the same user; Windows shows none without native code.
   */
  readonly readsMarkers: boolean;
  /** POSIX signals to process groups and pids, or taskkill.exe over a snapshot of the tree (Windows). */
  readonly kills: 'signals' | 'taskkill';
  /** The shell launcher (shellLauncher.ts) needs `setsid` and /proc: Linux. Elsewhere Node spawns each task. */
  readonly launcher: boolean;
  /** Trimming a log in place frees disk (not on Windows: NTFS fills the skipped part of a file with real zeros). */
  readonly trimsLogs: boolean;
  /** How listening ports are found: /proc/net, lsof, or not at all. */
  readonly ports: 'proc' | 'lsof' | 'none';
  /** The owner guard (ownerGuard.sh) runs, reading the table from this source; undefined: no guard (Windows). */
  readonly guard: 'proc' | 'ps' | undefined;
}

export function platformFor(os: NodeJS.Platform, hasProc: boolean): Platform {
  if (os === 'win32') {
    return { os, windows: true, processSource: 'cim', readsMarkers: false, kills: 'taskkill', launcher: false, trimsLogs: false, ports: 'none', guard: undefined };
  }
  const proc = os === 'linux' && hasProc;
  return {
    os,
    windows: false,
    processSource: proc ? 'proc' : 'ps',
    readsMarkers: true,
    kills: 'signals',
    launcher: proc,
    trimsLogs: true,
    ports: proc ? 'proc' : 'lsof',
    guard: proc ? 'proc' : 'ps',
  };
}

/** This process's platform. */
export const platform: Platform = platformFor(process.platform, existsSync('/proc/self/stat'));

// The owner guard (src/core/tasks/ownerGuard.sh) in its ps mode, the one macOS needs (no /proc): it reads the
// process table and the environments with `ps`. Run here on Linux with procps (`ps ... e` for the
// environments). Each test starts the guard itself with /bin/sh, holds its pipe, starts real processes and
// tells the guard their start time in the ps encoding (UTC lstart as YYYYMMDDhhmmss).
// PID 1 here may never reap orphans: a killed re-parented process can stay a zombie, which counts as dead.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import GUARD_SCRIPT from '../../src/core/tasks/ownerGuard.sh';

const MARKER = 'BACKGROUND_AGENT_TASK_ID';
const started: number[] = [];
/** Process groups of the detached shells (their children, whose pids the tests do not know, are in them). */
const groups: number[] = [];
const guards: ChildProcess[] = [];
const dirs: string[] = [];

/** The environment of this test without any marker (a test run inside a task would carry one). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!(MARKER in extra)) delete env[MARKER];
  return env;
}

function killAll(): void {
  for (const pid of [...groups.splice(0).map((group) => -group), ...started.splice(0)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  for (const guard of guards.splice(0)) if (guard.exitCode === null && guard.signalCode === null) guard.kill('SIGKILL');
}

afterEach(async () => {
  killAll();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});
after(killAll);

const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec';

/** A process's start as the guard's ps mode encodes it: its UTC lstart as YYYYMMDDhhmmss. */
function psStart(pid: number): number {
  const lstart = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { env: { ...process.env, TZ: 'UTC', LC_ALL: 'C' }, encoding: 'latin1' }).trim();
  const [, month, day, clock, year] = lstart.split(/\s+/);
  const [h, m, s] = clock.split(':');
  const two = (n: number | string) => String(n).padStart(2, '0');
  return Number(`${year}${two(MONTHS.indexOf(month) / 3 + 1)}${two(day)}${two(h)}${two(m)}${two(s)}`);
}

/** Gone, or a zombie nobody reaps. */
function isDead(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'latin1' }).trim().startsWith('Z');
  } catch {
    return true;
  }
}

async function until(check: () => boolean, what: string, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs a shell that prints pids (one per line) and returns them once it printed `count`. */
async function shellPids(script: string, count: number, options: { env?: NodeJS.ProcessEnv; detached?: boolean } = {}): Promise<{ shell: number; pids: number[] }> {
  const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'], env: options.env ?? cleanEnv(), detached: options.detached });
  child.unref();
  started.push(child.pid as number);
  if (options.detached) groups.push(child.pid as number);
  let text = '';
  const pids = await new Promise<number[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pids from ${script}`)), 5000);
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const lines = text.split('\n').filter((line) => /^\d+$/.test(line));
      if (lines.length >= count) {
        clearTimeout(timer);
        resolve(lines.slice(0, count).map(Number));
      }
    });
  });
  child.stdout.destroy();
  started.push(...pids);
  return { shell: child.pid as number, pids };
}

/** A process that outlives the shell that started it (a double fork): re-parented, its pid known. */
async function orphan(seconds: number, env: NodeJS.ProcessEnv): Promise<number> {
  const { pids } = await shellPids(`(sleep ${seconds} </dev/null >/dev/null 2>&1 & echo $!)`, 1, { env });
  return pids[0];
}

interface Guard {
  readonly child: ChildProcess;
  readonly claim: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  send(line: string): void;
  close(): void;
}

async function startGuard(instance: string, graceSeconds: number, env: NodeJS.ProcessEnv = cleanEnv()): Promise<Guard> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), 'ba-guard-ps-')));
  dirs.push(dir);
  const claim = path.join(dir, `${instance}.claimed`);
  const child = spawn('/bin/sh', ['-c', GUARD_SCRIPT, 'background-agent-guard', instance, String(graceSeconds), claim, MARKER, 'ps'], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env,
  });
  guards.push(child);
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    claim,
    exited,
    send: (line) => child.stdin?.write(`${line}\n`),
    close: () => child.stdin?.end(),
  };
}

async function exitWithin(guard: Guard, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const timeout = pause(ms).then(() => assert.fail('the guard did not exit'));
  return Promise.race([guard.exited, timeout]);
}

describe('the owner guard in ps mode', () => {
  it('stops the marked, the tracked shells with their setsid children, the launcher groups; spares the rest', async () => {
    const instance = 'k7m2pq';
    // Carries the marker in its environment only, and was re-parented (its shell exited at once).
    const marked = await orphan(311, cleanEnv({ [MARKER]: `${instance}.t1` }));
    // A task's shell with a child in a session of its own whose environment was cleared: only its parent tells.
    const task = await shellPids('env -i setsid sleep 312 </dev/null >/dev/null 2>&1 & echo $!; sleep 313', 1, { detached: true });
    // A launcher's process group: a subshell in it (same group, started at or after the group's leader).
    const launcher = await shellPids('(sleep 314; :) </dev/null >/dev/null 2>&1 & echo $!; sleep 315', 1, { detached: true });
    // Not ours: another instance's marker, a plain process, a reused pid (tracked with another start).
    const other = await orphan(316, cleanEnv({ [MARKER]: 'z9x8w7.t1' }));
    const plain = await orphan(317, cleanEnv());
    const reused = await shellPids('sleep 318 </dev/null >/dev/null 2>&1 & echo $!; sleep 319', 1, { detached: true });
    // One named only in its arguments, not its environment, and not as the whole word: spared.
    const mention = await orphan(320, cleanEnv({ NOTE: `x${MARKER}=${instance}.t1` }));

    const guard = await startGuard(instance, 0);
    guard.send(`t ${task.shell} ${psStart(task.shell)}`);
    guard.send(`l ${launcher.shell} ${psStart(launcher.shell)}`);
    guard.send(`t ${reused.shell} ${psStart(reused.shell) - 1}`);
    const members = [marked, task.shell, ...task.pids, launcher.shell, ...launcher.pids];
    const spared = [other, plain, reused.shell, ...reused.pids, mention];
    assert.ok([...members, ...spared].every((pid) => !isDead(pid)), 'everything runs before the owner goes');
    guard.close();

    await until(() => members.every(isDead), 'every member to be gone', 5000);
    const { code, signal } = await exitWithin(guard, 5000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'the guard ends by itself, not by its own signal');
    assert.ok(existsSync(path.join(guard.claim, 'stopped')), 'the guard claimed the tasks before stopping them');
    assert.deepEqual(spared.filter(isDead), [], 'nothing else was stopped');
  });

  it('exits on `q` without killing anything', async () => {
    const instance = 'q3r4s5';
    const marked = await orphan(321, cleanEnv({ [MARKER]: `${instance}.t1` }));
    const task = await shellPids('sleep 322 </dev/null >/dev/null 2>&1 & echo $!; sleep 323', 1, { detached: true });
    const guard = await startGuard(instance, 0);
    guard.send(`t ${task.shell} ${psStart(task.shell)}`);
    guard.send('q');
    guard.close();
    const { code, signal } = await exitWithin(guard, 3000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    await pause(1000);
    assert.deepEqual([marked, task.shell, ...task.pids].filter(isDead), [], 'nothing was stopped');
    assert.ok(!existsSync(guard.claim), 'nothing was claimed');
  });

  it('never counts itself or what it runs (ps, awk) as a member, even when they all carry its marker', async () => {
    const instance = 'g5h6j7';
    // The guard's own environment carries the marker, so do its ps and awk: with nothing else marked it
    // must find no member and leave before its grace is out, without claiming or killing anything.
    const guard = await startGuard(instance, 30, cleanEnv({ [MARKER]: `${instance}.guard` }));
    guard.close();
    const { code, signal } = await exitWithin(guard, 5000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
    assert.ok(!existsSync(guard.claim), 'nothing was claimed');
  });

  it('stops a marked member while itself carrying the marker, and survives to exit by itself', async () => {
    const instance = 'm8n9p2';
    const marked = await orphan(324, cleanEnv({ [MARKER]: `${instance}.t1` }));
    const guard = await startGuard(instance, 0, cleanEnv({ [MARKER]: `${instance}.guard` }));
    guard.close();
    await until(() => isDead(marked), 'the marked process to be gone', 5000);
    const { code, signal } = await exitWithin(guard, 5000);
    assert.deepEqual({ code, signal }, { code: 0, signal: null });
  });

  it('guards an instance it was told about later (w), and no other', async () => {
    const instance = 'a2b3c4';
    const taken = await orphan(325, cleanEnv({ [MARKER]: `d5e6f7.t2` }));
    const other = await orphan(326, cleanEnv({ [MARKER]: `h8i9j2.t3` }));
    const guard = await startGuard(instance, 0);
    guard.send('w d5e6f7');
    guard.close();
    await until(() => isDead(taken), 'the taken-over task to be gone', 5000);
    await exitWithin(guard, 5000);
    assert.ok(!isDead(other), 'another instance’s task was spared');
  });
});

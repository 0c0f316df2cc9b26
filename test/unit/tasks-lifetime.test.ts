// Tasks outlive a window reload, never their owner (ownerGuard.ts, takeOver.ts). Each test runs real owner processes
// (test/support/taskOwner.ts) over one log folder and kills them the ways owners die: SIGKILL, SIGTERM,
// SIGHUP. The next owner on the same folder plays the window after a reload.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { afterEach, describe, it } from 'node:test';
import type { TaskSnapshot } from '../../src/core/tasks/types';
import { OwnerProcess } from '../support/ownerProcess';
import { isAlive, readPid, until } from '../support/toolEnv';

const dirs: string[] = [];
const owners: OwnerProcess[] = [];
const pids: number[] = [];

afterEach(async () => {
  for (const owner of owners.splice(0)) await owner.kill().catch(() => undefined);
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
  // A guard or a killed task's launcher subshell may still write a host record or an exit file a moment later
  // (ENOTEMPTY in one CI run): rm retries.
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

async function folder(): Promise<string> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), 'ba-lifetime-')));
  dirs.push(dir);
  return dir;
}

async function owner(logDir: string, graceMs: number, spawnMode: 'auto' | 'direct' = 'auto'): Promise<{ owner: OwnerProcess; restored: TaskSnapshot[] }> {
  const started = await OwnerProcess.start(logDir, graceMs, { spawnMode });
  owners.push(started.owner);
  return started;
}

/** A task that runs a plain child and a setsid one (the repro of the issue), with every pid known. */
async function treeTask(o: OwnerProcess, dir: string, name: string): Promise<{ id: string; pids: number[] }> {
  const a = path.join(dir, `${name}-a.pid`);
  const b = path.join(dir, `${name}-b.pid`);
  const task = await o.start(`setsid sleep 312 & echo $! > ${a}; sleep 311 & echo $! > ${b}; wait`);
  const tree = [task.pid as number, await readPid(a), await readPid(b)];
  pids.push(...tree);
  return { id: task.id, pids: tree };
}

const allGone = (tree: number[]) => tree.every((pid) => !isAlive(pid));

describe('an owner that dies without a grace (the CLI)', () => {
  for (const signal of ['SIGKILL', 'SIGTERM', 'SIGHUP'] as const) {
    it(`killed with ${signal}: its tasks, setsid children included, die with it`, async () => {
      const dir = await folder();
      const { owner: o } = await owner(dir, 0);
      const tree = await treeTask(o, dir, 'tree');
      await o.kill(signal);
      await until(() => allGone(tree.pids), 'every process of the task to be gone', 4000);
    });
  }
});

describe('an owner with a grace (an extension host) that dies', () => {
  it('leaves its tasks running through the grace, then they die: nobody took them over', async () => {
    const dir = await folder();
    const { owner: o } = await owner(dir, 2000);
    const tree = await treeTask(o, dir, 'tree');
    await o.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(tree.pids.every(isAlive), 'still running within the grace');
    await until(() => allGone(tree.pids), 'every process of the task to be gone after the grace', 6000);
  });

  it('is taken over by the next owner within the grace: same pids, output, real exit code, notification, cancel', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 1500);
    const ends = await first.start(`echo before; sleep 1.5; echo after; exit 7`, 'conv-1');
    const tree = await treeTask(first, dir, 'tree');
    await first.kill('SIGKILL');

    const { owner: second, restored } = await owner(dir, 1500);
    const taken = restored.find((t) => t.id === tree.id);
    assert.equal(taken?.status, 'running');
    assert.equal(taken?.pid, tree.pids[0], 'the same process');
    const ended = await second.ended(ends.id);
    assert.equal(ended.status, 'failed');
    assert.equal(ended.exitCode, 7, 'its real exit code');
    const notification = await second.notified(ends.id);
    assert.equal(notification.conversationId, 'conv-1');
    assert.match(notification.outputTail, /before\nafter\n/);

    // Past the first owner's grace: its guard stood down, so nothing of the tree was killed.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.ok(tree.pids.every(isAlive), 'the taken-over tree still runs after the first grace');
    const cancelled = await second.cancel(tree.id);
    assert.equal(cancelled.status, 'cancelled');
    await until(() => allGone(tree.pids), 'the cancelled tree to be gone', 4000);
  });

  it('survives two reloads in a row, and the last owner’s guard stops it when nobody comes after', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 1500);
    const tree = await treeTask(first, dir, 'tree');
    await first.kill('SIGKILL');
    const { owner: second } = await owner(dir, 1500);
    await second.kill('SIGKILL');
    // Past the first grace: the task now lives under the second owner's guard only.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { owner: third, restored } = await owner(dir, 1500);
    assert.equal(restored.find((t) => t.id === tree.id)?.status, 'running', 'taken over a second time');
    assert.ok(tree.pids.every(isAlive));
    await third.kill('SIGKILL');
    await until(() => allGone(tree.pids), 'the last owner’s guard to stop the tree after its grace', 6000);
  });

  it('a task that ends between the two owners reports its real exit code, whichever comes first', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 5000);
    // Ends spread around the moment the next owner restores, so some end before and some after it looks;
    // all after the first owner is gone (`go`), however long starting them took on a loaded machine (a
    // task that ended while the first owner lived was its to report).
    const go = path.join(dir, 'go');
    const tasks = [];
    for (let i = 0; i < 8; i++) {
      tasks.push(await first.start(`while [ ! -e ${go} ]; do sleep 0.02; done; sleep ${(0.1 * i).toFixed(1)}; exit ${10 + i}`, 'conv-race'));
    }
    await first.kill('SIGKILL');
    writeFileSync(go, '');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { owner: second } = await owner(dir, 5000);
    for (const [i, task] of tasks.entries()) {
      const ended = await second.notified(task.id);
      assert.equal(ended.exitCode, 10 + i, `task ${i}`);
      assert.equal(ended.status, 'failed');
    }
  });

  it('a later owner after the grace finds the tasks stopped, not ended on their own', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 500);
    const tree = await treeTask(first, dir, 'tree');
    await first.kill('SIGKILL');
    await until(() => allGone(tree.pids), 'the guard to stop the tree', 5000);
    const { restored } = await owner(dir, 500);
    const task = restored.find((t) => t.id === tree.id);
    assert.equal(task?.status, 'interrupted');
    assert.match(task?.error ?? '', /no window of this folder took it over/);
  });

  it('leftovers of an owner whose guard is gone too are found and killed by the next owner', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 60_000);
    const tree = await treeTask(first, dir, 'tree');
    await first.kill('SIGKILL');
    // The guard dies as well (killed by someone): the tasks are orphans nobody guards.
    const record = JSON.parse(readFileSync(path.join(dir, 'hosts', hostFile(dir)), 'utf8')) as { guard: { pid: number } };
    process.kill(record.guard.pid, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(tree.pids.every(isAlive), 'orphaned, still running');
    const { restored } = await owner(dir, 0);
    assert.equal(restored.find((t) => t.id === tree.id)?.status, 'interrupted');
    await until(() => allGone(tree.pids), 'the leftovers to be killed', 6000);
  });

  it('two owners of different folders never touch each other’s tasks', async () => {
    const [dirA, dirB] = [await folder(), await folder()];
    const { owner: a } = await owner(dirA, 1000);
    const { owner: b } = await owner(dirB, 1000);
    const treeA = await treeTask(a, dirA, 'a');
    const treeB = await treeTask(b, dirB, 'b');
    await a.kill('SIGKILL');
    await b.kill('SIGKILL');
    // Only B's folder gets a next owner: B's tasks are taken over, A's are stopped by A's guard.
    const { restored } = await owner(dirB, 1000);
    assert.equal(restored.find((t) => t.id === treeB.id)?.status, 'running');
    await until(() => allGone(treeA.pids), 'A’s tasks to be stopped by A’s guard', 5000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.ok(treeB.pids.every(isAlive), 'B’s tasks run on under the new owner');
  });

  it('a disposed owner with a grace (a reload) lets its tasks run, and a clean one of the CLI kills them', async () => {
    const dir = await folder();
    const { owner: host } = await owner(dir, 1500);
    const kept = await treeTask(host, dir, 'kept');
    await host.dispose();
    const { restored } = await owner(dir, 1500);
    assert.equal(restored.find((t) => t.id === kept.id)?.status, 'running');

    const cliDir = await folder();
    const { owner: cli } = await owner(cliDir, 0);
    const killed = await treeTask(cli, cliDir, 'killed');
    await cli.dispose();
    await until(() => allGone(killed.pids), 'the CLI’s tasks to be gone', 4000);
  });
});

describe('what the guard finds besides the marker', () => {
  it('tasks that overwrite or clear their environment die with their owner too', async () => {
    const dir = await folder();
    const { owner: o } = await owner(dir, 0);
    const child = path.join(dir, 'child.pid');
    // A process title written over the environment (Perl, PostgreSQL, nginx, setproctitle), and `env -i`.
    const titled = await o.start(`exec perl -e '$0 = "my-dev-server"; sleep 300'`);
    const cleared = await o.start(`setsid env -i sleep 301 & echo $! > ${child}; exec env -i sleep 302`);
    const tree = [titled.pid as number, cleared.pid as number, await readPid(child)];
    pids.push(...tree);
    assert.doesNotMatch(readFileSync(`/proc/${tree[0]}/environ`, 'latin1'), /BACKGROUND_AGENT_TASK_ID/, 'the marker is gone from its environment');
    await o.kill('SIGKILL');
    await until(() => allGone(tree), 'every process to be gone', 4000);
  });

  it('such a task is taken over after a reload by its pid and start time', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 1500);
    const titled = await first.start(`exec perl -e '$0 = "my-dev-server"; sleep 300'`);
    pids.push(titled.pid as number);
    await first.kill('SIGKILL');
    const { owner: second, restored } = await owner(dir, 1500);
    assert.equal(restored.find((t) => t.id === titled.id)?.status, 'running');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.ok(isAlive(titled.pid as number), 'past the first grace, still running');
    assert.equal((await second.cancel(titled.id)).status, 'cancelled');
    assert.equal(isAlive(titled.pid as number), false);
  });

  it('a descendant whose name holds a newline is stopped with its task, and the guard reads nothing else into it', async () => {
    const dir = await folder();
    const { owner: o } = await owner(dir, 0);
    const child = path.join(dir, 'child.pid');
    // A name that reads like the start of another /proc/<pid>/stat line ("0 (y) S 1 1": pid 0, parent 1).
    const named = `x\n0 (y) S 1 1`;
    const task = await o.start(`cp "$(command -v sleep)" '${named}'; env -i './${named}' 300 & echo $! > ${child}; wait`);
    const pid = await readPid(child);
    pids.push(task.pid as number, pid);
    await until(() => readFileSync(`/proc/${pid}/stat`, 'latin1').includes('\n0 (y)'), 'the odd name to be in place');
    // Read as pid 0 with parent 1, that name would have made every process a member: this one must live.
    const bystander = spawn('sleep', ['30']);
    try {
      await o.kill('SIGKILL');
      await until(() => allGone([task.pid as number, pid]), 'the task and its oddly named child to be gone', 4000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.ok(isAlive(bystander.pid as number), 'a process that is not the task’s lives on');
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('a task the launcher is starting when its owner dies never runs, or dies at once', async () => {
    const dir = await folder();
    const { owner: o } = await owner(dir, 0);
    const first = await o.start('sleep 300');
    pids.push(first.pid as number);
    // Hold the launcher (as a slow fork or a hung network folder would), ask for a task, kill the owner.
    const launcher = Number(execFileSync('pgrep', ['-P', String(o.pid), '-x', 'sh']).toString().trim().split('\n')[0]);
    process.kill(launcher, 'SIGSTOP');
    const late = path.join(dir, 'late.pid');
    o.send({ start: { command: `echo $$ > ${late}; sleep 303` } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await o.kill('SIGKILL');
    process.kill(launcher, 'SIGCONT');
    await until(() => allGone([first.pid as number, launcher]), 'the first task and the launcher to be gone', 4000);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    if (existsSync(late)) {
      const pid = Number(readFileSync(late, 'utf8'));
      pids.push(pid);
      assert.equal(isAlive(pid), false, 'the late task is not running');
    }
  });
});

describe('taking over', () => {
  it('an owner that let its tasks go but lingers past its grace does not kill what the next one took over', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 1000);
    const tree = await treeTask(first, dir, 'tree');
    await first.release();
    const { owner: second, restored } = await owner(dir, 1000);
    assert.equal(restored.find((t) => t.id === tree.id)?.status, 'running');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.ok(tree.pids.every(isAlive), 'still running after the first owner’s grace');
    await second.kill('SIGKILL');
    await until(() => allGone(tree.pids), 'the second owner’s guard to stop it', 5000);
  });

  it('keeps a task’s time limit, counted from its start', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 5000);
    const limited = await first.start('sleep 300', undefined, 2000);
    pids.push(limited.pid as number);
    await first.kill('SIGKILL');
    const { owner: second } = await owner(dir, 5000);
    const ended = await second.ended(limited.id, 6000);
    assert.equal(ended.status, 'timed_out');
    assert.ok((ended.endedAt as number) - ended.startedAt < 4000, 'not a fresh limit after the reload');
  });

  it('tasks Node spawned (no launcher) report their real exit code after a reload too', async () => {
    const dir = await folder();
    const { owner: first } = await owner(dir, 5000, 'direct');
    const task = await first.start('echo to-out; echo to-err >&2; sleep 1; exit 5', 'conv-direct');
    await first.kill('SIGKILL');
    const { owner: second } = await owner(dir, 5000, 'direct');
    const ended = await second.notified(task.id);
    assert.equal(ended.exitCode, 5);
    assert.equal(ended.outputTail, 'to-out\nto-err\n', 'both streams in the log, nothing of the wrapper');
  });
});

function hostFile(dir: string): string {
  const names = readdirSync(path.join(dir, 'hosts')).filter((name) => name.endsWith('.json'));
  assert.equal(names.length, 1);
  return names[0];
}

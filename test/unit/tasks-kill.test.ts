// Cancelling, timeouts and disposal kill the whole process tree: children, grandchildren, a `setsid`
// one, a `nohup … &` one and a double-forked daemon re-parented away from the tree. Checked by pid.
// (PID 1 on these machines never reaps orphans, so a killed orphan can stay a zombie: isAlive counts
// a zombie as gone, because it cannot run any more.)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { protectProcessGroup } from '../../src/core/tasks/processTree';
import type { SpawnMode } from '../../src/core/tasks/types';
import { terminateTrees } from '../../src/core/tasks/processTree';
import { createTasksEnv, isAlive, pidOf, readPid, SPAWN_MODES, until, type TasksEnv } from '../support/tasksKit';

let env: TasksEnv;
let spawnMode: SpawnMode = 'auto';
beforeEach(async () => {
  env = await createTasksEnv({ killGraceMs: 500, spawnMode });
});
afterEach(() => env.dispose());

/** A shell script whose tree has every kind of descendant; each writes its pid to a file. */
function treeScript(dir: string): { command: string; pidFiles: string[] } {
  const f = (name: string) => path.join(dir, `${name}.pid`);
  const command = [
    `sleep 300 & echo $! > ${f('child')}`,
    `sh -c 'sleep 300 & echo $! > ${f('grandchild')}; wait' &`,
    `setsid sleep 300 & echo $! > ${f('setsid')}`,
    `nohup sleep 300 > /dev/null 2>&1 & echo $! > ${f('nohup')}`,
    // Double fork: the subshell exits at once, so the daemon is re-parented to init, out of the tree.
    `(setsid sleep 300 > /dev/null 2>&1 & echo $! > ${f('daemon')})`,
    'echo ready',
    'wait',
  ].join('\n');
  return { command, pidFiles: ['child', 'grandchild', 'setsid', 'nohup', 'daemon'].map(f) };
}

async function startTree(): Promise<{ id: string; pids: number[] }> {
  const { command, pidFiles } = treeScript(env.dir);
  const task = env.start(command);
  const pids = await Promise.all(pidFiles.map(readPid));
  assert.equal(task.status, 'running');
  for (const pid of pids) assert.ok(isAlive(pid), `pid ${pid} runs before the cancel`);
  // The grandchild writes its pid in the background: the shell may not have reached `echo ready` yet.
  await until(() => env.manager.outputPreview(task.id).includes('ready'), 'the tree to say ready');
  return { id: task.id, pids: [await pidOf(env.manager, task.id), ...pids] };
}

for (const mode of SPAWN_MODES) describe(`cancel (${mode} spawn)`, () => {
  before(() => (spawnMode = mode));
  after(() => (spawnMode = 'auto'));

  it('kills children and grandchildren, including setsid, nohup and double-forked ones, before it resolves', async () => {
    const { id, pids } = await startTree();
    const final = await env.manager.cancel(id);
    assert.equal(final.status, 'cancelled');
    assert.equal(final.signal, 'SIGTERM');
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} is gone when cancel resolves`);
    const [notification] = env.manager.notifications.drain(env.conversationId);
    assert.equal(notification.status, 'cancelled');
    assert.match(notification.outputTail, /ready/);
  });

  it('SIGKILLs a tree that ignores SIGTERM after the grace period', async () => {
    const pidFile = path.join(env.dir, 'stubborn.pid');
    const task = env.start(`trap '' TERM; sh -c "trap '' TERM; sleep 300" & echo $! > ${pidFile}; wait`);
    const child = await readPid(pidFile);
    const shell = await pidOf(env.manager, task.id);
    const final = await env.manager.cancel(task.id);
    assert.equal(final.status, 'cancelled');
    assert.equal(final.signal, 'SIGKILL');
    assert.equal(isAlive(child), false);
    assert.equal(isAlive(shell), false);
  });

  it('a task that has ended is returned as it is', async () => {
    const ended = await env.manager.waitForEnd(env.start('exit 4').id);
    const again = await env.manager.cancel(ended.id);
    assert.equal(again.status, 'failed');
    assert.equal(again.exitCode, 4);
    assert.equal(env.manager.notifications.pendingCount(env.conversationId), 1, 'one notification, not two');
  });

  it('cancelAll kills every running task', async () => {
    const tasks = [env.start('sleep 300'), env.start('sleep 300 & wait'), env.start('sh -c "sleep 300"')];
    const pids = await Promise.all(tasks.map((task) => pidOf(env.manager, task.id)));
    await env.manager.cancelAll();
    for (const task of tasks) assert.equal(env.manager.get(task.id)?.status, 'cancelled');
    for (const pid of pids) assert.equal(isAlive(pid), false);
  });
});

for (const mode of SPAWN_MODES) describe(`timeouts and leftovers (${mode} spawn)`, () => {
  before(() => (spawnMode = mode));
  after(() => (spawnMode = 'auto'));

  it('a task that outlives timeoutMs is killed with status timed_out, tree included', async () => {
    const pidFile = path.join(env.dir, 'child.pid');
    const task = env.start(`sleep 300 & echo $! > ${pidFile}; wait`, { timeoutMs: 300 });
    const child = await readPid(pidFile);
    const final = await env.manager.waitForEnd(task.id);
    assert.equal(final.status, 'timed_out');
    await until(() => !isAlive(child), 'the timed-out child to be gone');
    assert.equal(env.manager.notifications.drain(env.conversationId)[0].status, 'timed_out');
  });

  it('processes a finished shell left behind (same group or own session) are killed, not orphaned', async () => {
    const f = (name: string) => path.join(env.dir, `${name}.pid`);
    const task = env.start(`sleep 300 & echo $! > ${f('bg')}; setsid sleep 300 & echo $! > ${f('setsid')}; echo done`);
    const ended = await env.manager.waitForEnd(task.id);
    assert.equal(ended.status, 'completed');
    const pids = await Promise.all([readPid(f('bg')), readPid(f('setsid'))]);
    for (const pid of pids) await until(() => !isAlive(pid), `leftover ${pid} to be gone`);
  });

  it('a leftover only in its own session (nothing left in the task\'s group) is found by its marker and killed', async () => {
    const pidFile = path.join(env.dir, 'escaped.pid');
    // The shell waits until setsid has run (the child leads its own group), or the group check would find it first.
    const task = env.start(`setsid sleep 300 > /dev/null 2>&1 & echo $! > ${pidFile}; until [ "$(cut -d' ' -f5 /proc/$!/stat)" = "$!" ]; do :; done; echo done`);
    const ended = await env.manager.waitForEnd(task.id);
    assert.equal(ended.status, 'completed');
    const escaped = await readPid(pidFile);
    await until(() => !isAlive(escaped), `leftover ${escaped} to be gone`);
  });
});

describe('dispose', () => {
  it('kills every running tree at once (synchronously) and marks the tasks interrupted', async () => {
    const { id, pids } = await startTree();
    const other = env.start('sleep 300');
    const otherPid = await pidOf(env.manager, other.id);
    env.manager.dispose();
    assert.equal(env.manager.get(id)?.status, 'interrupted');
    assert.equal(env.manager.get(other.id)?.status, 'interrupted');
    // SIGKILL was sent before dispose returned; the kernel needs a moment to tear the processes down.
    for (const pid of [...pids, otherPid]) await until(() => !isAlive(pid), `pid ${pid} to be gone`, 2000);
  });

  it('leaves no process behind when the owning Node process exits right after dispose', async () => {
    const script = path.join(__dirname, '..', 'support', 'tasksDisposeChild.js');
    const child = spawn(process.execPath, [script, env.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, out);
    const pids = out.trim().split(/\s+/).map(Number);
    assert.ok(pids.length >= 6, out);
    for (const pid of pids) await until(() => !isAlive(pid), `pid ${pid} to be gone`, 2000);
  });
});

describe('protected process groups (the launcher\'s)', () => {
  it('a member is killed by its pid, but its group is never signalled as a whole', async () => {
    // Stands in for the launcher: a group leader that must survive, and a just-forked task still in its group.
    const pidFile = path.join(env.dir, 'member.pid');
    const leader = spawn('/bin/sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait; sleep 300`], { detached: true, stdio: 'ignore' });
    const leaderPid = leader.pid as number;
    const protection = protectProcessGroup(leaderPid);
    try {
      const member = await readPid(pidFile);
      await terminateTrees([{ pid: member, marker: 'no-such-marker' }], 500);
      assert.equal(isAlive(member), false);
      assert.equal(isAlive(leaderPid), true, 'the protected group was signalled');
    } finally {
      protection.dispose();
      process.kill(-leaderPid, 'SIGKILL');
    }
  });
});

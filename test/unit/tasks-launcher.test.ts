// The shell launcher: the /bin/sh that starts tasks on Linux so Node never forks per task. Its text
// protocol (quoting any command, folder and path), exit statuses, and what happens when it dies.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BackgroundManager } from '../../src/core/tasks/backgroundManager';
import { exitOfStatus, parseReport, quoteForSh } from '../../src/core/tasks/shellLauncher';
import { isDead, processTable, type ProcessInfo } from '../../src/core/tasks/processTable';
import { createTasksEnv, isAlive, pidOf, until, withEnv, type TasksEnv } from '../support/tasksKit';

const TRICKY = [
  `it's`,
  `"double" and 'single' and \\backslash\\`,
  'dollar $HOME $(echo no) `echo no` ${x:-y}',
  'new\nline\n\ttab',
  '; rm -rf / # not run',
  "'",
  '',
  'ünïcødé ✓',
];

describe('launch script', () => {
  it('quotes any text as one shell word that /bin/sh gives back unchanged', () => {
    for (const text of TRICKY) {
      const echoed = execFileSync('/bin/sh', ['-c', `printf %s ${quoteForSh(text)}`], { encoding: 'utf8' });
      assert.equal(echoed, text);
    }
  });

  it('reads exit statuses as Node reports exits: 128+n is signal n', () => {
    assert.deepEqual(exitOfStatus(0), { exitCode: 0, signal: null });
    assert.deepEqual(exitOfStatus(3), { exitCode: 3, signal: null });
    assert.deepEqual(exitOfStatus(137), { exitCode: null, signal: 'SIGKILL' });
    assert.deepEqual(exitOfStatus(143), { exitCode: null, signal: 'SIGTERM' });
    assert.deepEqual(exitOfStatus(255), { exitCode: 255, signal: null });
  });

  it('parses only well-formed reports', () => {
    assert.deepEqual(parseReport('s 4 1200'), { kind: 'forked', seq: 4, pid: 1200 });
    assert.deepEqual(parseReport('p 4 1234'), { kind: 'started', seq: 4, pid: 1234 });
    assert.deepEqual(parseReport('e 4 0'), { kind: 'exited', seq: 4, status: 0 });
    assert.deepEqual(parseReport('c 5'), { kind: 'no-folder', seq: 5 });
    assert.deepEqual(parseReport('l 6'), { kind: 'no-log', seq: 6 });
    for (const bad of ['', 'p', 'p x 1', 'e 4', 'e 4 -1', 'sh: 1: oops', 'p 4 12a', 's 4']) assert.equal(parseReport(bad), undefined, bad);
  });
});

let env: TasksEnv;
beforeEach(async () => {
  env = await createTasksEnv({ killGraceMs: 300 });
});
afterEach(() => env.dispose());

/** Processes whose parent is `parent`, as /proc shows them now. */
function childrenOf(parent: number): ProcessInfo[] {
  return [...processTable.readSync().values()].filter((info) => info.ppid === parent);
}

/** The manager's launcher: our child running `/bin/sh -s`. */
function launcherPid(): number | undefined {
  return childrenOf(process.pid).find(({ pid }) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'latin1') === '/bin/sh\0-s\0';
    } catch {
      return false; // gone meanwhile
    }
  })?.pid;
}

/** States of the launcher's children (the subshells waiting for tasks): 'Z' = finished but not reaped. */
function childStates(parent: number): string[] {
  return childrenOf(parent).map((info) => info.state);
}

describe('tasks through the launcher', () => {
  it('reaps the subshells of ended tasks: no zombies pile up in a long-lived launcher', async () => {
    const tasks = [env.start('echo a'), env.start('echo b'), env.start('exit 3')];
    await Promise.all(tasks.map((task) => env.manager.waitForEnd(task.id)));
    const launcher = launcherPid();
    assert.ok(launcher !== undefined, 'a launcher runs');
    await until(() => childStates(launcher).length === 0, 'the launcher to have reaped every finished subshell');
  });

  it('runs commands with quotes, newlines and dollars, in a folder and with a log path full of them', async () => {
    const folder = path.join(env.dir, `it's a "folder" $HOME`);
    mkdirSync(folder);
    const command = `printf '%s\\n' "it's" '"q"' '$HOME'\necho "$PWD"\necho "$BA_VALUE"`;
    const manager = new BackgroundManager({ logDir: path.join(env.dir, `lo'g "dir" $x`) });
    try {
      const task = manager.start({ command, cwd: folder, origin: { kind: 'user' }, env: { BA_VALUE: `va'l"ue $x\nnext` } });
      const ended = await manager.waitForEnd(task.id);
      assert.equal(ended.status, 'completed', manager.outputPreview(task.id));
      const expected = `it's\n"q"\n$HOME\n${folder}\nva'l"ue $x\nnext\n`;
      assert.equal(manager.outputPreview(task.id), expected);
      assert.equal(readFileSync(ended.logPath, 'utf8'), expected);
    } finally {
      manager.dispose();
    }
  });

  it('a variable name /bin/sh cannot assign still reaches the command (Node spawns that one)', async () => {
    // bash passes such names on to `env`, dash does not: pinned, as CI starts without $SHELL.
    await withEnv({ SHELL: '/bin/bash' }, async () => {
      const ended = await env.manager.waitForEnd(env.start('env | grep "^BA-ODD="', { env: { 'BA-ODD': 'yes' } }).id);
      assert.equal(env.manager.outputPreview(ended.id), 'BA-ODD=yes\n');
    });
  });

  it('a folder removed between the check and the start ends the task failed with the reason', async () => {
    const folder = path.join(env.dir, 'soon-gone');
    mkdirSync(folder);
    const task = env.start('echo never', { cwd: folder });
    execFileSync('rmdir', [folder]);
    const ended = await env.manager.waitForEnd(task.id);
    // Either the launcher found the folder gone, or it was quicker than rmdir: both are honest.
    if (ended.status === 'failed') assert.match(ended.error ?? '', /working directory/);
    else assert.equal(env.manager.outputPreview(task.id), 'never\n');
  });

  it('when the launcher dies, its running tasks still report their end, and new tasks get a new launcher', async () => {
    const running = env.start('sleep 0.5; echo survived');
    await pidOf(env.manager, running.id);
    const first = launcherPid();
    assert.ok(first !== undefined, 'a launcher runs');
    process.kill(first, 'SIGKILL');
    const ended = await env.manager.waitForEnd(running.id);
    assert.equal(ended.status, 'completed');
    assert.equal(env.manager.outputPreview(running.id), 'survived\n');
    const later = await env.manager.waitForEnd(env.start('echo again').id);
    assert.equal(later.status, 'completed');
    assert.notEqual(launcherPid(), first);
  });

  it('when the launcher and its waiting subshells die, the task ends failed and its process is killed', async () => {
    const task = env.start('sleep 300');
    const pid = await pidOf(env.manager, task.id);
    const launcher = launcherPid();
    assert.ok(launcher !== undefined);
    process.kill(-launcher, 'SIGKILL'); // its process group: the launcher and the subshells waiting for tasks
    const ended = await env.manager.waitForEnd(task.id);
    assert.equal(ended.status, 'failed');
    assert.match(ended.error ?? '', /launcher stopped/);
    assert.match(env.manager.outputPreview(task.id), /^Lost track of the command: /m);
    await until(() => !isAlive(pid), 'the task nobody could wait for any more to be killed');
  });

  it('a task started the moment the launcher was found dead goes to a new launcher, not the dead one', async () => {
    const task = env.start('sleep 300');
    await pidOf(env.manager, task.id);
    const launcher = launcherPid();
    assert.ok(launcher !== undefined);
    // Started from inside the end event of the lost task: before Node may have seen the launcher's exit.
    let next: string | undefined;
    env.manager.onEvent((event) => {
      if (event.type === 'ended' && event.task.id === task.id) next = env.start('echo next').id;
    });
    process.kill(-launcher, 'SIGKILL');
    await env.manager.waitForEnd(task.id);
    assert.ok(next !== undefined);
    const ended = await env.manager.waitForEnd(next);
    assert.equal(ended.status, 'completed', ended.error);
    assert.equal(env.manager.outputPreview(next), 'next\n');
  });

  it('a cancel gives up waiting for a pid the launcher never reports, ends the task cancelled, and calls the start off', async () => {
    // The launcher creates the log itself; a FIFO put there before its line is sent (a microtask later)
    // makes that step block until someone reads it: a start stuck like one in a hung network folder.
    const task = env.start('echo started-late');
    execFileSync('mkfifo', [task.logPath]);
    const launcher = launcherPid();
    assert.ok(launcher !== undefined);
    await until(() => liveChildren(launcher).length === 1, 'the subshell to be stuck opening the log');
    const cancelled = await env.manager.cancel(task.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.pid, undefined, 'no pid was ever reported');
    await until(() => liveChildren(launcher).length === 0, 'the stuck subshell to be killed');
    // Nothing is left that could run the command: a reader now finds the FIFO empty.
    const fifo = openSync(task.logPath, constants.O_RDWR | constants.O_NONBLOCK);
    try {
      assert.equal(readAvailable(fifo), '');
    } finally {
      closeSync(fifo);
    }
  });
});

/** Children of `pid` that have not exited (a zombie waiting for the launcher's `jobs` counts as gone). */
function liveChildren(pid: number): ProcessInfo[] {
  return childrenOf(pid).filter((info) => !isDead(info));
}

/** What a FIFO opened with O_NONBLOCK holds right now ('' when empty: the read fails with EAGAIN then). */
function readAvailable(fd: number): string {
  const buf = Buffer.alloc(4096);
  try {
    return buf.toString('utf8', 0, readSync(fd, buf, 0, buf.length, null));
  } catch {
    return '';
  }
}

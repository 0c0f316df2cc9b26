// bash, background_run, check_background and cancel_background over a real BackgroundManager and real processes.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { executeTool } from '../../src/core/tools';
import { createToolEnv, isAlive, readPid, until, type ToolEnv } from '../support/toolEnv';

let env: ToolEnv;
beforeEach(async () => {
  env = await createToolEnv();
});
afterEach(() => env.dispose());

const run = (name: string, input: unknown, signal?: AbortSignal) => executeTool(name, input, env.ctx(signal));

function startedId(content: string): string {
  const match = /^Background task (\S+) started: /.exec(content);
  assert.ok(match, content);
  return match[1];
}

describe('bash', () => {
  it('returns the exit code and output of a command that ends in time, and queues no notification', async () => {
    const result = await run('bash', { command: 'echo out; echo err >&2; exit 0' });
    assert.equal(result.isError, false);
    assert.match(result.content, /^Exit code 0 \([\d.]+s, task \w+\)\.\nout\nerr$/);
    assert.equal(env.manager.notifications.pendingCount(env.conversationId), 0);
  });

  it('reports a non-zero exit code', async () => {
    const result = await run('bash', { command: 'echo broken; exit 3' });
    assert.match(result.content, /^Exit code 3 .*\nbroken$/);
  });

  it('runs in the workspace folder with stdin closed', async () => {
    const result = await run('bash', { command: 'pwd; read line; echo "read:$?"' });
    assert.match(result.content, new RegExp(`\\n${env.cwd}\\nread:1$`));
  });

  it('bounds a flood of output and says how to read all of it', async () => {
    const result = await run('bash', { command: 'seq 1 100000' });
    assert.ok(Buffer.byteLength(result.content) < 32 * 1024, `${Buffer.byteLength(result.content)} bytes`);
    assert.match(result.content, /^Exit code 0/);
    assert.match(result.content, /\n1\n2\n3\n/, 'keeps the head');
    assert.match(result.content, /\n100000\n\[output was .* its middle was cut\. Read all of it with check_background task_id "[^"]+" and offset 0\.\]$/);
  });

  it('moves a command that outlives timeout_s to the background; it keeps running and its end is notified', async () => {
    const go = path.join(env.cwd, 'go');
    // The command waits for the test's go-ahead, so it certainly outlives the timeout however loaded the machine is.
    const result = await run('bash', { command: `echo started-early; while [ ! -f ${go} ]; do sleep 0.05; done; echo done`, timeout_s: 1 });
    assert.equal(result.isError, false);
    const match = /moved to the background as task (\S+) \(not killed\)/.exec(result.content);
    assert.ok(match, result.content);
    assert.match(result.content, /check_background with task_id/);
    assert.match(result.content, /\nOutput so far \(14 B\):\nstarted-early$/);
    const id = match[1];
    assert.equal(env.manager.get(id)?.status, 'running');
    assert.equal(env.manager.get(id)?.foreground, false);
    await writeFile(go, '');
    const ended = await env.manager.waitForEnd(id);
    assert.equal(ended.status, 'completed');
    await until(() => env.manager.notifications.pendingCount(env.conversationId) > 0, 'the notification');
    const [notification] = env.manager.notifications.drain(env.conversationId);
    assert.equal(notification.taskId, id);
    assert.equal(notification.status, 'completed');
    assert.match(notification.outputTail, /started-early\ndone/);
  });

  it('does not start anything once the turn was stopped', async () => {
    const stop = new AbortController();
    stop.abort();
    const result = await run('bash', { command: 'echo never' }, stop.signal);
    assert.deepEqual(result, { isError: true, content: 'bash was not run: the person stopped the turn.' });
    assert.equal(env.manager.list().length, 0);
  });

  it('Stop cancels a foreground command and kills its process tree', async () => {
    const pidFile = path.join(env.cwd, 'child.pid');
    const stop = new AbortController();
    const pending = run('bash', { command: `sleep 300 & echo $! > ${pidFile}; wait` }, stop.signal);
    const childPid = await readPid(pidFile);
    stop.abort();
    const result = await pending;
    assert.equal(result.isError, true);
    assert.match(result.content, /^Stopped by the person: the command was cancelled after .* and its process tree was killed\.$/);
    assert.equal(isAlive(childPid), false);
    assert.equal(env.manager.list()[0].status, 'cancelled');
  });
});

describe('background_run', () => {
  it('returns at once with the task id, and the end is notified with the output tail', async () => {
    const result = await run('background_run', { command: 'sleep 0.3; echo finished', description: 'a short nap' });
    assert.equal(result.isError, false);
    const id = startedId(result.content);
    assert.equal(result.content, `Background task ${id} started: sleep 0.3; echo finished`);
    assert.equal(env.manager.get(id)?.status, 'running');
    assert.equal(env.manager.get(id)?.description, 'a short nap');
    await until(() => env.manager.notifications.pendingCount(env.conversationId) > 0, 'the notification');
    const [notification] = env.manager.notifications.drain(env.conversationId);
    assert.equal(notification.taskId, id);
    assert.equal(notification.exitCode, 0);
    assert.match(notification.outputTail, /finished/);
  });

  it('runs in a sub-folder given as cwd', async () => {
    await run('write_file', { path: 'sub/keep.txt', content: '' });
    const id = startedId((await run('background_run', { command: 'pwd', cwd: 'sub' })).content);
    await env.manager.waitForEnd(id);
    const check = await run('check_background', { task_id: id });
    assert.match(check.content, new RegExp(`\\n${path.join(env.cwd, 'sub')}\\n`));
  });

  it('refuses a cwd that is not a folder', async () => {
    const result = await run('background_run', { command: 'ls', cwd: 'no-such-dir' });
    assert.equal(result.isError, true);
    assert.match(result.content, /`cwd` "no-such-dir" is not a folder in the workspace/);
  });

  it('kills a task that outlives its own timeout_s', async () => {
    const id = startedId((await run('background_run', { command: 'sleep 300', timeout_s: 0.2 })).content);
    const ended = await env.manager.waitForEnd(id);
    assert.equal(ended.status, 'timed_out');
  });
});

describe('check_background', () => {
  it('says when there are no tasks, and lists tasks one per line', async () => {
    assert.deepEqual(await run('check_background', {}), { isError: false, content: 'No background tasks.' });
    const a = startedId((await run('background_run', { command: 'sleep 300' })).content);
    const b = startedId((await run('background_run', { command: 'true' })).content);
    await env.manager.waitForEnd(b);
    const list = (await run('check_background', {})).content.split('\n').sort();
    assert.deepEqual(list, [`${a}: [running] sleep 300`, `${b}: [completed] true`].sort());
  });

  it('keeps the list one line per task and bounded, however many tasks and however long their commands', async () => {
    for (let i = 0; i < 104; i++) env.manager.start({ command: 'true', cwd: env.cwd, origin: { kind: 'user' } });
    const script = env.manager.start({ command: `true\n${'echo long; '.repeat(100)}`, cwd: env.cwd, origin: { kind: 'user' } });
    await Promise.all(env.manager.list().map((t) => env.manager.waitForEnd(t.id)));
    const lines = (await run('check_background', {})).content.split('\n');
    assert.equal(lines.length, 101, '100 tasks and a line saying how many more');
    for (const line of lines.slice(0, 100)) assert.match(line, /^\S+: \[completed\] \S/);
    assert.match(lines[0], new RegExp(`^${script.id}: \\[completed\\] true ⏎ echo long; .{100,200}…$`), 'the newest first, on one line, shortened');
    assert.match(lines[100], /^\[5 older tasks not listed \(0 of them running\); /);
  });

  it('shows status, exit code, duration and output of one task', async () => {
    const id = startedId((await run('background_run', { command: 'echo hello; exit 4' })).content);
    await env.manager.waitForEnd(id);
    const result = await run('check_background', { task_id: id });
    assert.equal(result.isError, false);
    assert.match(result.content, new RegExp(`^Task ${id}: failed \\(exit code 4\\)\\ncommand: echo hello; exit 4\\nduration: \\d+`));
    assert.match(result.content, /output, bytes 0–6 of 6 \(6 B\):\nhello\n\[end of output\]$/);
  });

  it('reads from a byte offset and gives the next offset', async () => {
    const id = startedId((await run('background_run', { command: "printf 'abcdefghij'" })).content);
    await env.manager.waitForEnd(id);
    const middle = await run('check_background', { task_id: id, offset: 4 });
    assert.match(middle.content, /output, bytes 4–10 of 10 \(10 B\):\nefghij\n\[end of output\]$/);
    const past = await run('check_background', { task_id: id, offset: 10 });
    assert.match(past.content, /offset 10 is at or past the end \(10 bytes\); the task has ended, there is no more output\.$/);
  });

  it('pages through output larger than one result', async () => {
    const id = startedId((await run('background_run', { command: 'seq 1 20000' })).content);
    await env.manager.waitForEnd(id);
    const tail = await run('check_background', { task_id: id });
    assert.match(tail.content, /earlier output: call with offset 0/);
    assert.match(tail.content, /\n20000\n\[end of output\]$/);
    const first = await run('check_background', { task_id: id, offset: 0 });
    const next = /call check_background with task_id "[^"]+" and offset (\d+)\]$/.exec(first.content);
    assert.ok(next, first.content.slice(-200));
    assert.ok(Buffer.byteLength(first.content) < 32 * 1024);
    const second = await run('check_background', { task_id: id, offset: Number(next[1]) });
    assert.match(second.content, new RegExp(`output, bytes ${next[1]}–`));
  });

  it('says a running task has no new output yet at the end offset', async () => {
    const id = startedId((await run('background_run', { command: 'echo first; sleep 300' })).content);
    await until(() => (env.manager.get(id)?.outputBytes ?? 0) > 0, 'first output');
    const result = await run('check_background', { task_id: id, offset: 6 });
    assert.match(result.content, /^Task \S+: running\n/);
    assert.match(result.content, /no new output yet; call again later with the same offset\.$/);
  });

  it('answers an unknown id with an error naming the known ids', async () => {
    const empty = await run('check_background', { task_id: 'zzz' });
    assert.deepEqual(empty, { isError: true, content: 'No background task has the id "zzz"; there are no background tasks.' });
    const id = startedId((await run('background_run', { command: 'true' })).content);
    const result = await run('check_background', { task_id: 'zzz' });
    assert.deepEqual(result, { isError: true, content: `No background task has the id "zzz"; known task ids: ${id}.` });
  });
});

describe('cancel_background', () => {
  it('kills the whole tree, grandchildren included, and returns the final status', async () => {
    const pids = path.join(env.cwd, 'pids');
    const command = `sh -c 'sleep 300 & echo $! > ${pids}.1; wait' & setsid sleep 300 & echo $! > ${pids}.2; wait`;
    const id = startedId((await run('background_run', { command })).content);
    const grandchild = await readPid(`${pids}.1`);
    const ownSession = await readPid(`${pids}.2`);
    assert.ok(isAlive(grandchild) && isAlive(ownSession));
    const result = await run('cancel_background', { task_id: id });
    assert.equal(result.isError, false);
    assert.match(result.content, new RegExp(`^Task ${id} cancelled after .*: its whole process tree was killed\\.$`));
    assert.equal(isAlive(grandchild), false, 'grandchild is gone');
    assert.equal(isAlive(ownSession), false, 'a descendant in its own session is gone');
    assert.equal(env.manager.get(id)?.status, 'cancelled');
  });

  it('says when the task had already ended', async () => {
    const id = startedId((await run('background_run', { command: 'true' })).content);
    await env.manager.waitForEnd(id);
    const result = await run('cancel_background', { task_id: id });
    assert.match(result.content, new RegExp(`^Task ${id} had already ended: completed \\(exit code 0\\) after .*\\. Nothing to cancel\\.$`));
  });

  it('answers an unknown id with an error', async () => {
    const result = await run('cancel_background', { task_id: 'nope' });
    assert.equal(result.isError, true);
    assert.match(result.content, /No background task has the id "nope"/);
  });
});

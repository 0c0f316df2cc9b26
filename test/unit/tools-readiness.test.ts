// background_run's wait until ready (`wait_for`, `wait_for_port`) and `notify_on`, over a real BackgroundManager
// and real processes (servers are small Node scripts). No timing assertions: every wait is on an event.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { executeTool } from '../../src/core/tools';
import { formatBackgroundResults } from '../../src/core/tasks/resultsBlock';
import type { TaskNotification } from '../../src/core/tasks/types';
import { createToolEnv, until, type ToolEnv } from '../support/toolEnv';
import { freePort } from '../support/freePort';

let env: ToolEnv;
beforeEach(async () => {
  env = await createToolEnv({ matchBatchMs: 400 });
});
afterEach(() => env.dispose());

const run = (input: Record<string, unknown>, signal?: AbortSignal) => executeTool('background_run', input, env.ctx(signal));

function taskIdIn(content: string): string {
  const match = /Background task (\S+?)[: ]/.exec(content);
  assert.ok(match, content);
  return match[1];
}


/** A Node server script in the workspace: listens on `port` at `host` after `delayMs`, prints a line then. */
async function serverScript(name: string, port: number, host: string, delayMs = 200, extra = ''): Promise<string> {
  const file = path.join(env.cwd, name);
  await writeFile(
    file,
    `const s = require('net').createServer((c) => c.end());
setTimeout(() => s.listen({ port: ${port}, host: '${host}'${host === '::1' ? ', ipv6Only: true' : ''} }, () => console.log('server up on ${port}')), ${delayMs});
${extra}`,
  );
  return JSON.stringify(file);
}

function hasIpv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port: 0, host: '::1', ipv6Only: true }, () => s.close(() => resolve(true)));
  });
}

describe('background_run waits until ready', () => {
  it('returns when a line matches wait_for, with the line, and the task keeps running', async () => {
    const result = await run({ command: 'sleep 0.3; printf "starting\\n  \\033[32mLocal:\\033[0m http://localhost:5173/\\n"; sleep 600', wait_for: 'Local:\\s+http' });
    assert.equal(result.isError, false, result.content);
    assert.match(result.content, /^Background task \S+ is ready after [\d.]+s: the line " {2}Local: http:\/\/localhost:5173\/" matched `wait_for`\. It keeps running/);
    assert.match(result.content, /Its output:\nstarting\n {2}Local: http:\/\/localhost:5173\/$/);
    const task = env.manager.get(taskIdIn(result.content));
    assert.equal(task?.status, 'running');
    assert.equal(task?.foreground, false, 'an ordinary background task now');
    assert.equal(task?.waitingUntilReady, undefined);
  });

  it('matches a line that is still being written (a prompt without a newline)', async () => {
    const result = await run({ command: 'printf "Ready> "; sleep 600', wait_for: '^Ready>' });
    assert.match(result.content, /is ready after .*the line "Ready> " matched/);
  });

  it('returns when a process of the task listens on wait_for_port', async () => {
    const port = await freePort();
    const result = await run({ command: `node ${await serverScript('server.js', port, '127.0.0.1')}`, wait_for_port: port });
    assert.equal(result.isError, false, result.content);
    assert.match(result.content, new RegExp(`is ready after [\\d.]+s: listening on 127\\.0\\.0\\.1:${port}\\.`));
    assert.match(result.content, new RegExp(`Its process tree listens on 127\\.0\\.0\\.1:${port}\\.`));
    assert.deepEqual(env.manager.get(taskIdIn(result.content))?.ports, [{ address: '127.0.0.1', port }]);
  });

  it('with both, returns only when the line matched and the port listens', async () => {
    const port = await freePort();
    // The line comes first; the port opens a moment later.
    const command = `echo "compiled"; node ${await serverScript('server.js', port, '127.0.0.1', 400)}`;
    const result = await run({ command, wait_for: 'compiled', wait_for_port: port });
    assert.match(result.content, new RegExp(`is ready after .*: the line "compiled" matched \`wait_for\`; listening on 127\\.0\\.0\\.1:${port}\\.`));
  });

  it('finds a port opened by a grandchild of the task', async () => {
    const port = await freePort();
    const script = await serverScript('server.js', port, '127.0.0.1');
    const result = await run({ command: `sh -c 'sh -c "node ${script.replace(/"/g, '\\"')}"; true'`, wait_for_port: port });
    assert.match(result.content, new RegExp(`is ready after .*listening on 127\\.0\\.0\\.1:${port}`), result.content);
  });

  it('finds a server that listens on IPv6 only', async (t) => {
    if (!(await hasIpv6Loopback())) return t.skip('this machine has no IPv6 loopback');
    const port = await freePort('::1');
    const result = await run({ command: `node ${await serverScript('server6.js', port, '::1')}`, wait_for_port: port });
    assert.match(result.content, new RegExp(`is ready after .*listening on \\[::1\\]:${port}\\.`), result.content);
  });

  it('says when the task is not ready after wait_timeout_s; it keeps running', async () => {
    const port = await freePort();
    const result = await run({ command: 'echo booting; sleep 600', wait_for: 'never printed', wait_for_port: port, wait_timeout_s: 0.5 });
    assert.equal(result.isError, false);
    assert.match(result.content, /is not ready after 0\.5s \(`wait_timeout_s`\): no output line matched `wait_for` \/never printed\/; nothing in its process tree listens on port \d+ \(a port published by a container is held by docker-proxy.*\)\. It is still running \(not killed\)\./);
    assert.match(result.content, /Its output:\nbooting$/);
    assert.equal(env.manager.get(taskIdIn(result.content))?.status, 'running');
  });

  it('says when the task ended before it was ready, with its exit code and last lines, and notifies no end', async () => {
    const result = await run({ command: 'echo "Error: port in use"; exit 3', wait_for: 'ready' });
    assert.equal(result.isError, true);
    assert.match(result.content, /^Background task \S+ ended before it was ready \(waited for a line matching \/ready\/\): it failed \(exit code 3\) after [\d.]+s\.\nIts output:\nError: port in use$/);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(env.manager.notifications.pendingCount(env.conversationId), 0, 'told once, in the result');
  });

  it('refuses a bad regular expression with the engine message, before starting anything', async () => {
    const result = await run({ command: 'sleep 600', wait_for: 'ready (' });
    assert.equal(result.isError, true);
    assert.match(result.content, /^`wait_for` is not a valid JavaScript regular expression: Invalid regular expression: \/ready \(\/: Unterminated group$/);
    const nested = await run({ command: 'sleep 600', notify_on: '(a+)+$' });
    assert.match(nested.content, /^`notify_on` repeats a group that itself repeats/);
    const stray = await run({ command: 'sleep 600', wait_timeout_s: 5 });
    assert.match(stray.content, /^`wait_timeout_s` only applies with `wait_for` or `wait_for_port`/);
    assert.deepEqual(env.manager.list(), [], 'no task was started');
  });

  it('gives up a pattern that backtracks for seconds on the output; the task keeps running', async () => {
    // Star height 1, so the nesting check lets it through; on a line of spaces without "error" it backtracks without end.
    const result = await run({ command: `printf '%40s\\n' ''; sleep 600`, wait_for: '(.|\\s)*error' });
    assert.equal(result.isError, true);
    assert.match(result.content, /^Stopped waiting for `wait_for` \/\(\.\|\\s\)\*error\/ after [\d.]+s: matching it took more than 1 s on one piece of the output, so it was stopped .*Background task (\S+) was not killed\./);
    assert.equal(env.manager.get(taskIdIn(result.content))?.status, 'running');
  });

  it('Stop ends the wait at once; the task keeps running and is named', async () => {
    const stop = new AbortController();
    const pending = run({ command: 'sleep 600', wait_for: 'never' }, stop.signal);
    await until(() => env.manager.list()[0]?.waitingUntilReady === true, 'the wait to show on the task');
    stop.abort();
    const result = await pending;
    assert.match(result.content, /^Stopped waiting after [\d.]+s: the person pressed Stop\. Background task (\S+) was not killed\. It keeps running/);
    const task = env.manager.get(taskIdIn(result.content));
    assert.equal(task?.status, 'running');
    assert.equal(task?.waitingUntilReady, undefined);
  });
});

describe('notify_on', () => {
  const matchesOf = (all: TaskNotification[]) => all.filter((n) => n.match);

  it('delivers matching lines with a line of context either side, and the rest before the end', async () => {
    const command = 'echo one; echo "ERROR disk full"; echo three; while [ ! -f go ]; do sleep 0.05; done; echo four; echo "ERROR last"; exit 1';
    const result = await run({ command, notify_on: 'ERROR' });
    assert.match(result.content, /Output lines matching `notify_on` \/ERROR\/ will be delivered to you while it runs\.$/);
    const id = taskIdIn(result.content);
    await until(() => env.manager.notifications.pendingCount(env.conversationId) === 1, 'the first entry while it runs');
    await writeFile(path.join(env.cwd, 'go'), '');
    await until(() => env.manager.get(id)?.status === 'failed' && env.manager.notifications.pendingCount(env.conversationId) === 3, 'the last match and the end');
    const queued = env.manager.notifications.drain(env.conversationId);
    const matches = matchesOf(queued);
    assert.deepEqual(
      matches.flatMap((n) => n.match?.lines ?? []),
      [
        { line: 'ERROR disk full', before: 'one', after: 'three' },
        { line: 'ERROR last', before: 'four' },
      ],
    );
    assert.equal(queued.at(-1)?.match, undefined, 'the end comes last');
    assert.equal(queued.at(-1)?.status, 'failed');
    const block = formatBackgroundResults(matches.slice(0, 1));
    assert.match(block, new RegExp(`\\[bg:${id}\\] matched notify_on /ERROR/: 1 line \\(still running, [\\d.]+s in\\)\\ncommand: .*\\n  one\\n> ERROR disk full\\n  three`));
  });

  it('sends at most one entry per task per batch window, collecting the lines in between', async () => {
    const result = await run({ command: 'for i in $(seq 1 40); do echo "warn $i"; sleep 0.03; done; sleep 600', notify_on: '^warn' });
    const id = taskIdIn(result.content);
    const entries: TaskNotification[] = [];
    await until(() => {
      entries.push(...matchesOf(env.manager.notifications.drain(env.conversationId)));
      return entries.reduce((sum, n) => sum + (n.match?.lines.length ?? 0) + (n.match?.moreLines ?? 0), 0) >= 40;
    }, 'all 40 lines to be told');
    for (let i = 1; i < entries.length; i++) assert.ok(entries[i].queuedAt - entries[i - 1].queuedAt >= 395, `entries ${i - 1} and ${i} are a batch window apart`);
    assert.ok(entries.length < 40, `${entries.length} entries for 40 lines`);
    assert.equal(entries[0].taskId, id);
    assert.deepEqual(entries.map((n) => n.match?.entry), entries.map((_, i) => i + 1));
  });

  it('gives up a pattern that backtracks for seconds, in a last entry that says why', async () => {
    const result = await run({ command: `printf '%40s\\n' ''; sleep 600`, notify_on: '(.|\\s)*error' });
    const id = taskIdIn(result.content);
    await until(() => env.manager.notifications.pendingCount(env.conversationId) === 1, 'the entry that gives up');
    const [entry] = env.manager.notifications.drain(env.conversationId);
    assert.equal(entry.match?.last, true);
    assert.match(formatBackgroundResults([entry]), new RegExp(`\\[notify_on was stopped for this task: matching it took more than 1 s .*; further matches are only in its log: use check_background with task_id "${id}"\\]`));
  });

  it('stops after 20 entries and says further matches are only in the log', async () => {
    const result = await run({ command: 'while true; do echo tick; sleep 0.1; done', notify_on: 'tick' });
    const id = taskIdIn(result.content);
    const entries: TaskNotification[] = [];
    await until(() => {
      entries.push(...matchesOf(env.manager.notifications.drain(env.conversationId)));
      return entries.length >= 20;
    }, '20 entries', 60_000);
    assert.equal(entries.at(-1)?.match?.last, true);
    assert.ok(entries.slice(0, -1).every((n) => !n.match?.last));
    assert.match(formatBackgroundResults(entries.slice(-1)), new RegExp(`this is the last notify_on entry for this task \\(20 sent\\); further matches are only in its log: use check_background with task_id "${id}"`));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(matchesOf(env.manager.notifications.drain(env.conversationId)).length, 0, 'no 21st entry');
  });
});

// The CLI's REPL as a child process: prompts from stdin, answers on stdout, tasks killed when input ends.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { killLeftoverClis, runCli } from '../support/cliProcess';
import { fnStep, startScriptedServer, textReply, toolCall, type ScriptedServer } from '../support/scriptedServer';
import { isAlive, readPid } from '../support/toolEnv';

let server: ScriptedServer;
let workspace: string;
beforeEach(async () => {
  server = await startScriptedServer();
  workspace = await mkdtemp(path.join(tmpdir(), 'ba-repl-'));
});
afterEach(async () => {
  killLeftoverClis();
  await server.close();
  await rm(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

describe('cli REPL', () => {
  it('answers each line in one conversation and exits 0 at the end of input', async () => {
    server.enqueue(textReply('First answer.'), textReply('Second answer.'));
    const run = runCli([], { baseURL: server.url, cwd: workspace, stdin: 'pipe' });
    run.child.stdin?.end('first question\n/tasks\nsecond question\n');
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.match(run.stdout(), /First answer\.\n[^]*Second answer\.\n/);
    assert.match(run.stderr(), /No background tasks\./);
    assert.equal(server.requests.length, 2);
    const second = server.requests[1].body?.messages ?? [];
    assert.equal(second.length, 3, 'the second request carries the first exchange');
    assert.equal(server.rejected.length, 0);
  });

  it('/compact summarizes the conversation: one stderr line, and the next request starts from the summary', async () => {
    server.enqueue(textReply('First answer.'), textReply('SUMMARY: the person asked a first question.'), textReply('Second answer.'));
    const run = runCli([], { baseURL: server.url, cwd: workspace, stdin: 'pipe' });
    run.child.stdin?.end('first question\n/compact\nsecond question\n');
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.match(run.stderr(), /\n\[compacted: the conversation was summarized, [\d.k]+ → [\d.k]+ tokens, because you asked; your requests and every task id are kept\]\n/);
    assert.doesNotMatch(run.stdout(), /SUMMARY/, 'the summary is for the model, not printed as an answer');
    const third = JSON.stringify(server.requests[2]?.body?.messages?.[0]);
    assert.match(third, /SUMMARY: the person asked a first question\./);
    assert.match(third, /first question/);
    assert.equal(server.rejected.length, 0);
  });

  it('kills the tasks it started when input ends', async () => {
    const pidFile = path.join(workspace, 'server.pid');
    let pid = 0;
    server.enqueue(
      toolCall('background_run', { command: `sleep 300 & echo $! > ${pidFile}; wait`, description: 'dev server' }),
      fnStep(async () => {
        pid = await readPid(pidFile);
        return textReply('The server runs.');
      }),
    );
    const run = runCli(['--yes'], { baseURL: server.url, cwd: workspace, stdin: 'pipe' });
    run.child.stdin?.end('start the dev server\n');
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.ok(pid > 0);
    assert.equal(isAlive(pid), false, 'no task outlives the CLI');
  });

  it('/exit quits without sending anything', async () => {
    const run = runCli([], { baseURL: server.url, cwd: workspace, stdin: 'pipe' });
    run.child.stdin?.write('/exit\n');
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.equal(server.requests.length, 0);
  });
});

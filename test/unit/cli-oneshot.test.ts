// The headless CLI end to end: `node dist/cli.js -p …` as a child process against the scripted server.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CLI_PATH, killLeftoverClis, runCli } from '../support/cliProcess';
import { blocksOf, isSummaryCall, messagesOf } from '../support/agentHarness';
import { errorReply, fnStep, startScriptedServer, textReply, toolCall, toolCalls, type ScriptedServer } from '../support/scriptedServer';
import { isAlive, readPid, until } from '../support/toolEnv';

let server: ScriptedServer;
let workspace: string;
beforeEach(async () => {
  server = await startScriptedServer();
  workspace = await mkdtemp(path.join(tmpdir(), 'ba-cli-'));
});
afterEach(async () => {
  killLeftoverClis();
  await server.close();
  await rm(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

const cli = (args: string[], extra: { apiKey?: string | null } = {}) => runCli(args, { baseURL: server.url, cwd: workspace, ...extra });

describe('cli -p', () => {
  it('streams the answer to stdout and exits 0', async () => {
    server.enqueue(textReply('Hello from the model.'));
    const run = cli(['-p', 'say hello']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.equal(run.stdout(), 'Hello from the model.\n');
    const [request] = server.requests;
    assert.equal(request.body?.model, 'claude-sonnet-5-5');
    assert.equal(server.rejected.length, 0);
  });

  it('waits for a background task, is woken by its end, prints the resumed answer and exits 0', async () => {
    server.enqueue(
      toolCall('background_run', { command: 'sleep 0.5; echo build-ok' }, undefined, { text: 'Starting the build.' }),
      textReply('The build runs in the background.'),
      textReply('The build finished: build-ok.'),
    );
    const run = cli(['-p', 'build it', '--model', 'claude-test-1']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.equal(run.stdout(), 'Starting the build.\nThe build runs in the background.\nThe build finished: build-ok.\n');
    assert.match(run.stderr(), /⏺ background_run: sleep 0\.5; echo build-ok\n/);
    assert.match(run.stderr(), /\[bg (\S+)\] started: sleep 0\.5; echo build-ok\n/);
    assert.match(run.stderr(), /\[bg \S+\] completed \(exit 0, /);
    const requests = server.requests;
    assert.equal(requests.length, 3);
    assert.equal(requests[0].body?.model, 'claude-test-1');
    const resumed = JSON.stringify(requests[2].body?.messages);
    assert.match(resumed, /<background-results>/);
    assert.match(resumed, /build-ok/);
    assert.equal(server.rejected.length, 0);
  });

  it('a bash command that outlives its timeout moves to the background and its end still wakes the agent', async () => {
    server.enqueue(
      // sleep 1.5 always outlives timeout_s 0.5: the timer starts before the command does.
      toolCall('bash', { command: 'echo early; sleep 1.5; echo late', timeout_s: 0.5 }),
      textReply('Still running; I will wait.'),
      textReply('It printed late.'),
    );
    const run = cli(['-p', 'run the slow thing']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.equal(run.stdout(), 'Still running; I will wait.\nIt printed late.\n');
    assert.match(run.stderr(), /⏺ bash: echo early; sleep 1\.5; echo late\n/);
    assert.match(run.stderr(), /\n {2}⎿ The command was still running after 0\.5s, so it was moved to the background as task (\S+)/);
    assert.match(run.stderr(), /\[bg \S+\] moved to the background: echo early/);
    assert.match(run.stderr(), /\[bg \S+\] completed \(exit 0, /);
    assert.doesNotMatch(run.stderr(), /\[bg \S+\] started/, 'a foreground bash is not announced as a background task');
    assert.equal(server.requests.length, 3);
    assert.match(JSON.stringify(server.requests[2].body?.messages), /<background-results>[^]*early[^]*late/);
  });

  it('--no-wait exits after the turn and kills the task it started', async () => {
    const pidFile = path.join(workspace, 'child.pid');
    let pid = 0;
    server.enqueue(
      toolCall('background_run', { command: `sleep 300 & echo $! > ${pidFile}; wait` }),
      // Answer only once the task has really started its child, so the kill is what the test observes.
      fnStep(async () => {
        pid = await readPid(pidFile);
        return textReply('Started.');
      }),
    );
    // --yes: the command writes its pid to a file, which would otherwise need approval.
    const run = cli(['-p', 'start a server', '--no-wait', '--yes']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.equal(run.stdout(), 'Started.\n');
    assert.equal(isAlive(pid), false, 'the grandchild sleep is gone');
  });

  it('SIGINT stops the run, kills every task and exits 130', async () => {
    const pidFile = path.join(workspace, 'child.pid');
    server.enqueue(toolCall('background_run', { command: `sleep 300 & echo $! > ${pidFile}; wait` }), textReply('Waiting for it.'));
    const run = cli(['-p', 'start and wait', '--yes']);
    const pid = await readPid(pidFile);
    await run.waitForStderr(/\[bg \S+\] started/);
    run.child.kill('SIGINT');
    const { code } = await run.exited;
    assert.equal(code, 130, run.stderr());
    assert.equal(isAlive(pid), false, 'the task is gone');
    assert.match(run.stderr(), /\[bg \S+\] cancelled/);
  });

  it('SIGTERM also kills every task', async () => {
    const pidFile = path.join(workspace, 'child.pid');
    server.enqueue(toolCall('background_run', { command: `setsid sleep 300 & echo $! > ${pidFile}; wait` }), textReply('Waiting.'));
    const run = cli(['-p', 'start and wait', '--yes']);
    const pid = await readPid(pidFile);
    await run.waitForStderr(/\[bg \S+\] started/);
    run.child.kill('SIGTERM');
    const { code } = await run.exited;
    assert.equal(code, 143, run.stderr());
    assert.equal(isAlive(pid), false, 'even a task descendant in its own session is gone');
  });

  // The repro: the model starts a setsid child and a plain one, then the CLI dies without a word.
  const escapingTask = (a: string, b: string) => `setsid sleep 312 & echo $! > ${a}; sleep 311 & echo $! > ${b}; wait`;

  for (const signal of ['SIGKILL', 'SIGHUP'] as const) {
    it(`killed with ${signal}, it leaves no task behind, setsid ones included`, async () => {
      const [a, b] = [path.join(workspace, 'a.pid'), path.join(workspace, 'b.pid')];
      server.enqueue(toolCall('background_run', { command: escapingTask(a, b) }), textReply('Waiting.'));
      const run = cli(['-p', 'start and wait', '--yes']);
      const pids = [await readPid(a), await readPid(b)];
      await run.waitForStderr(/\[bg \S+\] started/);
      run.child.kill(signal);
      await run.exited;
      await until(() => pids.every((pid) => !isAlive(pid)), 'both sleeps to be gone', 4000);
    });
  }

  it('run in a terminal that is closed, it leaves no task behind', async () => {
    const [a, b] = [path.join(workspace, 'a.pid'), path.join(workspace, 'b.pid')];
    server.enqueue(toolCall('background_run', { command: escapingTask(a, b) }), textReply('Waiting.'));
    // `script` gives the CLI a real terminal; killing it closes that terminal (the kernel hangs it up).
    const command = [process.execPath, CLI_PATH, '-p', 'start and wait', '--yes'].map((word) => `'${word}'`).join(' ');
    const terminal = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: workspace,
      env: { ...process.env, SHELL: '/bin/sh', ANTHROPIC_BASE_URL: server.url, ANTHROPIC_API_KEY: 'test-key' },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    try {
      const pids = [await readPid(a), await readPid(b)];
      terminal.kill('SIGKILL');
      await until(() => pids.every((pid) => !isAlive(pid)), 'both sleeps to be gone', 4000);
    } finally {
      terminal.kill('SIGKILL');
    }
  });

  it('removes its task log folder at exit', async () => {
    // A private TMPDIR: other CLIs (parallel test files, teammates) create folders in the shared one.
    const privateTmp = await mkdtemp(path.join(tmpdir(), 'ba-cli-tmp-'));
    try {
      server.enqueue(toolCall('bash', { command: 'echo logged' }), textReply('Done.'));
      const run = runCli(['-p', 'log something'], { baseURL: server.url, cwd: workspace, env: { TMPDIR: privateTmp } });
      assert.equal((await run.exited).code, 0, run.stderr());
      assert.match(run.stderr(), /⏺ bash: echo logged\n {2}⎿ Exit code 0 .* \(\+1 lines\)\n/);
      assert.deepEqual(await readdir(privateTmp), []);
    } finally {
      await rm(privateTmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });
});

describe('cli failures', () => {
  it('file tools on a FIFO answer at once, again and again, and the run still exits (no file call is left hanging)', async () => {
    execFileSync('mkfifo', [path.join(workspace, 'pipe')]);
    const calls = [0, 1].flatMap(() => [
      { name: 'read_file', input: { path: 'pipe' } },
      { name: 'write_file', input: { path: 'pipe', content: 'x' } },
      { name: 'edit_file', input: { path: 'pipe', old_text: 'a', new_text: 'b' } },
    ]);
    server.enqueue(toolCalls(calls), textReply('The pipe cannot be used.'));
    const run = cli(['-p', 'use the pipe']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    const results = blocksOf(messagesOf(server.requests[1]).at(-1)).filter((b) => b.type === 'tool_result');
    assert.equal(results.length, 6);
    for (const result of results) assert.match(JSON.stringify(result.content), /pipe is a named pipe \(FIFO\)/);
  });

  it('a missing API key: non-zero exit, one sentence, no request', async () => {
    const run = cli(['-p', 'hello'], { apiKey: null });
    const { code } = await run.exited;
    assert.notEqual(code, 0);
    assert.equal(run.stdout(), '');
    assert.match(run.stderr(), /^ANTHROPIC_API_KEY is not set: [^\n]+\.\n$/);
    assert.equal(server.requests.length, 0);
  });

  it('--max-turns reached: non-zero exit and one sentence naming the flag', async () => {
    server.enqueue(toolCall('bash', { command: 'true' }), toolCall('bash', { command: 'true' }), toolCall('bash', { command: 'true' }));
    const run = cli(['-p', 'loop', '--max-turns', '2']);
    const { code } = await run.exited;
    assert.equal(code, 1, run.stderr());
    assert.match(run.stderr(), /\nError: the agent reached the turn limit \(--max-turns 2\) before it finished; model calls that only deliver background results do not count toward it\.\n$/);
    // The third scripted step was never asked for.
    assert.equal(server.pending, 1);
  });

  it('a burst of 100 tasks ending together under --max-turns 3: every result reaches the model, one stderr line per block', async () => {
    const starts = Array.from({ length: 100 }, (_, i) => ({ name: 'background_run', input: { command: `sleep 0.5; echo out-${i}` } }));
    // The model acknowledges whatever it is sent, however many calls the deliveries take.
    server.enqueue(toolCalls(starts), ...Array.from({ length: 110 }, () => textReply('Noted.')));
    const run = cli(['-p', 'run them', '--max-turns', '3']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.deepEqual(server.rejected, []);
    const started = [...run.stderr().matchAll(/\[bg (\S+)\] started:/g)].map((m) => m[1]);
    assert.equal(started.length, 100);
    const delivered = new Set(server.requests.flatMap((r) => [...JSON.stringify(r.body?.messages?.at(-1) ?? '').matchAll(/\[bg:(\w+)\]/g)].map((m) => m[1])));
    assert.deepEqual([...delivered].sort(), [...started].sort(), 'every result was delivered');
    // One line per block on stderr, never a line naming a hundred ids.
    for (const line of run.stderr().split('\n').filter((l) => l.includes('delivered to the agent'))) assert.ok(line.length < 120, line);
  });

  it('--context-window: a long run stays under it, clearing then compacting, with one stderr line per compaction', async () => {
    const limited = await startScriptedServer({ contextLimit: 20_000 });
    try {
      writeFileSync(path.join(workspace, 'big.txt'), Array.from({ length: 100 }, (_, i) => `${i} ${'z'.repeat(60)}`).join('\n'));
      const chatter = `Thinking: ${'the file is long. '.repeat(40)}`;
      let reads = 0;
      limited.enqueue(
        ...Array.from({ length: 60 }, () =>
          fnStep((request) => {
            if (isSummaryCall(request)) return textReply('SUMMARY of the reads so far.');
            return reads++ < 20 ? toolCall('read_file', { path: 'big.txt' }, undefined, { text: chatter }) : textReply('Read it twenty times.');
          }),
        ),
      );
      const run = runCli(['-p', 'read big.txt twenty times', '--context-window', '20000'], { baseURL: limited.url, cwd: workspace });
      const { code } = await run.exited;
      assert.equal(code, 0, run.stderr());
      assert.match(run.stdout(), /Read it twenty times\./);
      assert.deepEqual(limited.rejected.map((r) => r.rejected), []);
      const lines = run.stderr().split('\n').filter((l) => l.startsWith('[compacted'));
      const summaryCalls = limited.requests.filter(isSummaryCall);
      assert.ok(summaryCalls.length >= 1, run.stderr());
      assert.equal(lines.length, summaryCalls.length, 'one line per compaction');
      const firstCleared = limited.requests.findIndex((r) => JSON.stringify(r.body?.messages).includes('Cleared to save context'));
      assert.ok(firstCleared >= 0 && firstCleared < summaryCalls[0].index, 'old results were cleared before the first compaction');
      assert.match(lines[0], /^\[compacted: the conversation was summarized, [\d.k]+ → [\d.k]+ tokens, because the context was nearly full; your requests and every task id are kept\]$/);
    } finally {
      await limited.close();
    }
  });

  it('an API error after retries: non-zero exit and one sentence', async () => {
    const steps = Array.from({ length: 5 }, () => errorReply(529, { retryAfterS: 0, message: 'Overloaded' }));
    server.enqueue(...steps);
    const run = cli(['-p', 'hello']);
    const { code } = await run.exited;
    assert.equal(code, 1, run.stderr());
    assert.match(run.stderr(), /\[retry 1: HTTP 529/);
    const lines = run.stderr().trimEnd().split('\n');
    assert.match(lines[lines.length - 1], /^Error: The API is overloaded \(529\)/);
    assert.equal(server.pending, 0, 'every retry was used');
  });

  it('bad flags: exit 2 with one sentence; --help prints usage', async () => {
    const bad = cli(['--max-turns', 'zero', '-p', 'x']);
    assert.equal((await bad.exited).code, 2);
    assert.match(bad.stderr(), /^--max-turns must be a whole number of at least 1, not "zero"\.\n$/);
    const tiny = cli(['--context-window', '100', '-p', 'x']);
    assert.equal((await tiny.exited).code, 2);
    assert.match(tiny.stderr(), /^--context-window must be a whole number of tokens, at least 10000, not "100"\.\n$/);
    const unknown = cli(['--frobnicate']);
    assert.equal((await unknown.exited).code, 2);
    assert.match(unknown.stderr(), /frobnicate/);
    const help = cli(['--help']);
    assert.equal((await help.exited).code, 0);
    assert.match(help.stdout(), /^Usage: background-agent/);
    assert.ok(existsSync(workspace));
  });
});

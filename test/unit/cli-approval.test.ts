// Approval in the CLI, run as a real child process: without a terminal whatever needs approval is refused
// (the model is told, stderr names the flag, the exit code stays 0); --allow, --deny, --allow-edits and
// --yes each change that; on a terminal (a real pseudo-terminal made by `script`) it asks y / a / n.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { CLI_PATH, killLeftoverClis, runCli } from '../support/cliProcess';
import { blocksOf, messagesOf } from '../support/agentHarness';
import { startScriptedServer, textReply, toolCall, type ScriptedServer } from '../support/scriptedServer';

let server: ScriptedServer;
let workspace: string;
beforeEach(async () => {
  server = await startScriptedServer();
  workspace = await mkdtemp(path.join(tmpdir(), 'ba-cli-approval-'));
});
afterEach(async () => {
  killLeftoverClis();
  await server.close();
  await rm(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

const cli = (args: string[]) => runCli(args, { baseURL: server.url, cwd: workspace });

/** The tool_result the model got for the first tool call (in the second request). */
function firstToolResult(): { content: string; isError: boolean } {
  const block = blocksOf(messagesOf(server.requests[1]).at(-1)).find((b) => b.type === 'tool_result');
  return { content: JSON.stringify(block?.content ?? ''), isError: block?.is_error === true };
}

describe('cli approval without a terminal', () => {
  it('refuses a command that needs approval, tells the model, names the flag on stderr, exits 0', async () => {
    server.enqueue(toolCall('bash', { command: 'touch made.txt' }), textReply('I could not create it.'));
    const run = cli(['-p', 'create made.txt']);
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    assert.ok(!existsSync(path.join(workspace, 'made.txt')));
    assert.match(run.stderr(), /\[approval\] refused touch made\.txt: it needs approval and there is no terminal to ask; --allow touch \(or --yes\) would allow it/);
    const result = firstToolResult();
    assert.equal(result.isError, true);
    assert.match(result.content, /needs the person's approval and the CLI runs without a terminal to ask on, so it was refused\. The person can allow it by running the CLI with --allow touch \(or --yes\)/);
  });

  it('--allow runs what the rule names', async () => {
    server.enqueue(toolCall('bash', { command: 'touch made.txt' }), textReply('Done.'));
    const run = cli(['-p', 'create made.txt', '--allow', 'touch']);
    assert.equal((await run.exited).code, 0, run.stderr());
    assert.ok(existsSync(path.join(workspace, 'made.txt')));
    assert.equal(firstToolResult().isError, false);
  });

  it('--deny refuses even a read-only command, naming the rule', async () => {
    server.enqueue(toolCall('bash', { command: 'ls -la' }), textReply('Refused.'));
    const run = cli(['-p', 'list', '--deny', 'ls', '--yes']);
    assert.equal((await run.exited).code, 0, run.stderr());
    assert.match(firstToolResult().content, /Refused by the deny rule \\"ls\\"/);
  });

  it('--allow-edits lets write_file through; without it the write is refused with that hint', async () => {
    server.enqueue(toolCall('write_file', { path: 'a.txt', content: 'hello\n' }), textReply('Tried.'));
    const refused = cli(['-p', 'write a.txt']);
    assert.equal((await refused.exited).code, 0);
    assert.match(refused.stderr(), /--allow-edits \(or --yes\) would allow it/);
    assert.ok(!existsSync(path.join(workspace, 'a.txt')));

    server.enqueue(toolCall('write_file', { path: 'a.txt', content: 'hello\n' }), textReply('Written.'));
    const allowed = cli(['-p', 'write a.txt', '--allow-edits']);
    assert.equal((await allowed.exited).code, 0, allowed.stderr());
    assert.equal(readFileSync(path.join(workspace, 'a.txt'), 'utf8'), 'hello\n');
  });

  it('--yes runs everything and writes without asking', async () => {
    server.enqueue(toolCall('bash', { command: 'touch a && mkdir -p b && echo done > b/c' }), textReply('Done.'));
    const run = cli(['-p', 'go', '--yes']);
    assert.equal((await run.exited).code, 0, run.stderr());
    assert.equal(readFileSync(path.join(workspace, 'b', 'c'), 'utf8'), 'done\n');
  });

  it('with --yes and --deny, refuses what the deny rules cannot be checked against, and says so', async () => {
    server.enqueue(toolCall('bash', { command: '$TOOL -rf build' }), textReply('Refused.'));
    const run = cli(['-p', 'clean', '--yes', '--deny', 'rm']);
    assert.equal((await run.exited).code, 0, run.stderr());
    assert.match(run.stderr(), /\[approval\] refused \$TOOL -rf build: the deny rules \(--deny\) cannot be checked against it, and there is no terminal to ask/);
    assert.doesNotMatch(run.stderr(), /or --yes/);
    assert.match(firstToolResult().content, /cannot be checked against the person's deny rules/);
  });

  it('rejects a rule it cannot read before starting (exit 2)', async () => {
    const run = cli(['-p', 'x', '--allow', '/[unclosed/']);
    assert.equal((await run.exited).code, 2);
    assert.match(run.stderr(), /^--allow: the rule \/\[unclosed\/ is not a valid regular expression/);
    assert.equal(server.requests.length, 0);
  });
});

const QUESTION = 'Allow? [y]';

/**
 * The CLI on a real terminal: `script` gives it a pseudo-terminal. Each step waits for its text to appear
 * (after what the previous step saw) and then types its line, as a person would.
 */
function runOnTerminal(args: string[], steps: Array<[waitFor: string, type: string]>): Promise<{ code: number | null; output: string }> {
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const env: NodeJS.ProcessEnv = { ...process.env, ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: server.url };
  const child = spawn('script', ['-qfec', [process.execPath, CLI_PATH, ...args].map(quote).join(' '), '/dev/null'], { cwd: workspace, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let seen = 0;
  let step = 0;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    while (step < steps.length) {
      const at = output.indexOf(steps[step][0], seen);
      if (at < 0) break;
      seen = at + steps[step][0].length;
      child.stdin.write(`${steps[step++][1]}\n`);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('cli approval on a terminal', () => {
  it('asks, showing the part that needs approval: y runs it once, n refuses, a stores the rule for the run', async () => {
    server.enqueue(
      toolCall('bash', { command: 'ls && touch one.txt' }),
      toolCall('bash', { command: 'touch two.txt' }),
      toolCall('bash', { command: 'touch three.txt' }),
      toolCall('bash', { command: 'touch four.txt' }),
      textReply('Done.'),
    );
    const { code, output } = await runOnTerminal(['-p', 'make files'], [[QUESTION, 'y'], [QUESTION, 'n'], [QUESTION, 'a']]);
    assert.equal(code, 0, output);
    assert.match(output, /approval needed: bash ls && touch one\.txt/);
    assert.match(output, /· touch one\.txt: `touch` is not on the allow list/);
    assert.ok(existsSync(path.join(workspace, 'one.txt')), 'y ran it');
    assert.ok(!existsSync(path.join(workspace, 'two.txt')), 'n refused it');
    assert.ok(existsSync(path.join(workspace, 'three.txt')), 'a ran it');
    assert.ok(existsSync(path.join(workspace, 'four.txt')), 'and the stored rule let the next one through');
    assert.equal(output.split(QUESTION).length - 1, 3, 'asked three times, not four');
    const denied = blocksOf(messagesOf(server.requests[2]).at(-1)).find((b) => b.type === 'tool_result');
    assert.equal(denied?.is_error, true);
    assert.match(JSON.stringify(denied?.content), /The person denied running `touch two\.txt`/);
  });

  it('shows a write as a diff before asking', async () => {
    server.enqueue(toolCall('write_file', { path: 'hello.txt', content: 'hello\nworld\n' }), textReply('Written.'));
    const { code, output } = await runOnTerminal(['-p', 'write hello'], [[QUESTION, 'y']]);
    assert.equal(code, 0, output);
    assert.match(output, /approval needed: write_file hello\.txt/);
    assert.match(output, /new file, \+2 -0 lines/);
    assert.match(output, /\+hello\r?\n\s+\+world/);
    assert.equal(readFileSync(path.join(workspace, 'hello.txt'), 'utf8'), 'hello\nworld\n');
  });

  it('in the REPL, the answer is the next line typed, then the prompt comes back', async () => {
    server.enqueue(toolCall('bash', { command: 'touch repl.txt' }), textReply('Made it.'));
    const { code, output } = await runOnTerminal([], [['> ', 'make the file'], [QUESTION, 'y'], ['Made it.', '/exit']]);
    assert.equal(code, 0, output);
    assert.ok(existsSync(path.join(workspace, 'repl.txt')));
    assert.equal(server.requests.length, 2, 'the answer was not sent to the model as a message');
  });
});

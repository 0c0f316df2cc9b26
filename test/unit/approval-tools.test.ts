// Every command and every write of the model's tools passes the approval gate: what runs, what does not,
// and the sentence the model gets when something is refused. Real tools, real processes, a scripted person.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ApprovalGate } from '../../src/core/approval/approvalGate';
import { ApprovalPolicy } from '../../src/core/approval/approvalPolicy';
import { executeTool } from '../../src/core/tools';
import { testApproval } from '../support/approvals';
import { SPAWN_MODES, withEnv } from '../support/tasksKit';
import { createToolEnv, type ToolEnv } from '../support/toolEnv';

let env: ToolEnv;
beforeEach(async () => {
  env = await createToolEnv();
});
afterEach(() => env.dispose());

describe('approval of commands', () => {
  it('runs a read-only command without asking', async () => {
    const { gate, approver } = testApproval();
    const result = await executeTool('bash', { command: 'echo hi && ls' }, env.ctx(undefined, gate));
    assert.equal(result.isError, false, result.content);
    assert.match(result.content, /^Exit code 0/);
    assert.equal(approver.requests.length, 0);
  });

  it('asks for a command no rule allows, with the part that needs approval, and runs it once allowed', async () => {
    const { gate, approver } = testApproval();
    approver.answer({ kind: 'allow' });
    const result = await executeTool('bash', { command: 'cd . && touch made.txt' }, env.ctx(undefined, gate));
    assert.equal(result.isError, false, result.content);
    const [request] = approver.requests;
    assert.equal(request.kind, 'command');
    assert.deepEqual(request.kind === 'command' && request.parts, [{ text: 'touch made.txt', why: '`touch` is not on the allow list' }]);
    assert.deepEqual(request.kind === 'command' && request.rules, ['touch']);
    assert.equal(request.kind === 'command' && request.cwd, env.cwd);
    assert.ok(existsSync(path.join(env.cwd, 'made.txt')));
  });

  it('tells the model the person denied it, and starts nothing', async () => {
    const { gate, approver } = testApproval();
    approver.answer({ kind: 'deny' });
    const before = env.manager.list().length;
    const result = await executeTool('bash', { command: 'touch nope.txt' }, env.ctx(undefined, gate));
    assert.equal(result.isError, true);
    assert.equal(result.content, 'The person denied running `touch nope.txt`; it did not run. Do not run it another way; ask them what they want instead.');
    assert.equal(env.manager.list().length, before, 'no task was started');
    assert.ok(!existsSync(path.join(env.cwd, 'nope.txt')));
  });

  it('names the part of a compound command the person was asked about', async () => {
    const { gate, approver } = testApproval();
    approver.answer({ kind: 'deny' });
    const result = await executeTool('bash', { command: 'ls && touch nope.txt' }, env.ctx(undefined, gate));
    assert.match(result.content, /denied running `ls && touch nope\.txt` \(needing approval: `touch nope\.txt`\)/);
  });

  it('Always Allow adds the rule: the same prefix runs without asking next time', async () => {
    const { gate, approver, policy } = testApproval();
    approver.answer({ kind: 'always' });
    assert.equal((await executeTool('bash', { command: 'touch one.txt' }, env.ctx(undefined, gate))).isError, false);
    assert.deepEqual(policy.sessionRules, ['touch']);
    assert.equal((await executeTool('bash', { command: 'touch two.txt' }, env.ctx(undefined, gate))).isError, false);
    assert.equal(approver.requests.length, 1, 'asked once');
  });

  it('a deny rule refuses without asking, naming the rule', async () => {
    const { gate, approver } = testApproval({ mode: 'auto', denyCommands: ['rm'] });
    const result = await executeTool('bash', { command: 'ls && rm -rf src' }, env.ctx(undefined, gate));
    assert.equal(result.isError, true);
    assert.match(result.content, /^Refused by the deny rule "rm": `ls && rm -rf src` \(the part `rm -rf src`\) may not run/);
    assert.equal(approver.requests.length, 0);
  });

  it('background_run asks too, and the approved task runs in the background', async () => {
    const { gate, approver } = testApproval();
    approver.answer({ kind: 'allow' });
    const result = await executeTool('background_run', { command: 'sleep 0.2; touch bg.txt' }, env.ctx(undefined, gate));
    assert.match(result.content, /^Background task (\S+) started: /);
    assert.equal(approver.requests[0].tool, 'background_run');
    const id = /^Background task (\S+) started/.exec(result.content)?.[1] ?? '';
    assert.equal((await env.manager.waitForEnd(id)).status, 'completed');
    assert.ok(existsSync(path.join(env.cwd, 'bg.txt')));
  });

  it('background_run in a subfolder asks before git reads that folder\'s repository configuration', async () => {
    mkdirSync(path.join(env.cwd, 'sub'));
    const { gate, approver } = testApproval();
    approver.answer({ kind: 'deny' });
    const result = await executeTool('background_run', { command: 'git status', cwd: 'sub' }, env.ctx(undefined, gate));
    assert.equal(result.isError, true);
    const [request] = approver.requests;
    assert.match(request.kind === 'command' ? request.parts[0].why : '', /git after `cd` \(or in another folder\)/);
    const atRoot = await executeTool('background_run', { command: 'git status' }, env.ctx(undefined, gate));
    assert.match(atRoot.content, /^Background task \S+ started/, 'at the workspace root it needs no approval');
  });

  it('a waiting approval is answered with a denial when the person presses Stop', async () => {
    const { gate, approver } = testApproval();
    const stop = new AbortController();
    const pending = executeTool('bash', { command: 'touch later.txt' }, env.ctx(stop.signal, gate));
    await approver.untilAsked();
    stop.abort();
    const result = await pending;
    assert.equal(result.isError, true);
    assert.ok(!existsSync(path.join(env.cwd, 'later.txt')));
  });

  it('Stop during the first judgement (while the parser loads) lets nothing start', async () => {
    const stop = new AbortController();
    const { loadShellParser } = await import('../../src/core/approval/shellParser');
    const policy = new ApprovalPolicy({ mode: 'auto', allowCommands: [], denyCommands: [], trusted: true }, {
      parser: async () => {
        stop.abort();
        return loadShellParser();
      },
    });
    const gate = new ApprovalGate(policy, { ask: async () => ({ kind: 'allow' }) });
    const before = env.manager.list().length;
    const result = await executeTool('bash', { command: 'touch stopped.txt' }, env.ctx(stop.signal, gate));
    assert.equal(result.isError, true);
    assert.equal(env.manager.list().length, before, 'no task was started');
  });

  it('an approver that fails lets nothing through', async () => {
    const gate = new ApprovalGate(new ApprovalPolicy({ mode: 'ask', allowCommands: [], denyCommands: [], trusted: true }), {
      ask: async () => {
        throw new Error('the view is gone');
      },
    });
    const result = await executeTool('bash', { command: 'touch x.txt' }, env.ctx(undefined, gate));
    assert.equal(result.isError, true);
    assert.match(result.content, /asking the person for approval failed \(the view is gone\)/);
  });

  it('Restricted Mode refuses commands and writes with a sentence that says why', async () => {
    const { gate, approver } = testApproval({ mode: 'auto', trusted: false });
    for (const [tool, input] of [['bash', { command: 'ls' }], ['background_run', { command: 'ls' }], ['write_file', { path: 'a.txt', content: 'x' }]] as const) {
      const result = await executeTool(tool, input, env.ctx(undefined, gate));
      assert.equal(result.isError, true, tool);
      assert.match(result.content, /^Refused: this folder is in Restricted Mode/);
    }
    // Reading still works.
    writeFileSync(path.join(env.cwd, 'r.txt'), 'readable\n');
    assert.equal((await executeTool('read_file', { path: 'r.txt' }, env.ctx(undefined, gate))).isError, false);
    assert.equal(approver.requests.length, 0);
  });

  it('tasks the agent starts do not get the API key from the environment', async () => {
    await withEnv({ ANTHROPIC_API_KEY: 'sk-ant-test-never-shown-0123456789' }, async () => {
      for (const spawnMode of SPAWN_MODES) {
        const local = await createToolEnv({ spawnMode });
        try {
          const result = await executeTool('bash', { command: 'echo "key=[${ANTHROPIC_API_KEY:-unset}]"; env | grep -c ANTHROPIC_API_KEY || true' }, local.ctx());
          assert.match(result.content, /key=\[unset\]\n0/, `${spawnMode}: ${result.content}`);
          // Restart Task keeps the agent as origin: the manager hides the key by origin, not the caller.
          const restarted = local.manager.start({ command: 'echo "[${ANTHROPIC_API_KEY:-unset}]"', cwd: local.cwd, origin: { kind: 'agent', conversationId: 'c' } });
          await local.manager.waitForEnd(restarted.id);
          assert.equal(local.manager.outputPreview(restarted.id), '[unset]\n', `${spawnMode}: a restarted agent task`);
          // A task the person starts keeps their environment.
          const own = local.manager.start({ command: 'echo "[${ANTHROPIC_API_KEY:-unset}]"', cwd: local.cwd, origin: { kind: 'user' } });
          await local.manager.waitForEnd(own.id);
          assert.equal(local.manager.outputPreview(own.id), '[sk-ant-test-never-shown-0123456789]\n');
        } finally {
          await local.dispose();
        }
      }
    });
  });
});

describe('approval of writes', () => {
  it('write_file shows the change for approval and writes once allowed', async () => {
    writeFileSync(path.join(env.cwd, 'notes.md'), 'one\ntwo\n');
    const { gate, approver } = testApproval();
    approver.answer({ kind: 'allow' });
    const result = await executeTool('write_file', { path: 'notes.md', content: 'one\nthree\n' }, env.ctx(undefined, gate));
    assert.equal(result.isError, false, result.content);
    const [request] = approver.requests;
    assert.equal(request.kind, 'write');
    assert.equal(request.kind === 'write' && request.path, 'notes.md');
    assert.equal(request.kind === 'write' && request.before, 'one\ntwo\n');
    assert.equal(request.kind === 'write' && request.after, 'one\nthree\n');
    assert.equal(readFileSync(path.join(env.cwd, 'notes.md'), 'utf8'), 'one\nthree\n');
  });

  it('a denied write leaves the file as it was and tells the model', async () => {
    writeFileSync(path.join(env.cwd, 'keep.txt'), 'original\n');
    const { gate, approver } = testApproval();
    approver.answer({ kind: 'deny' }, { kind: 'deny' });
    const written = await executeTool('write_file', { path: 'keep.txt', content: 'changed\n' }, env.ctx(undefined, gate));
    assert.equal(written.content, 'The person denied this change to keep.txt; the file was not changed. Do not write it another way; ask them what they want instead.');
    const edited = await executeTool('edit_file', { path: 'keep.txt', old_text: 'original', new_text: 'edited' }, env.ctx(undefined, gate));
    assert.equal(edited.isError, true);
    assert.equal(readFileSync(path.join(env.cwd, 'keep.txt'), 'utf8'), 'original\n');
  });

  it('a new file is a write with nothing before it', async () => {
    const { gate, approver } = testApproval();
    approver.answer({ kind: 'allow' });
    await executeTool('write_file', { path: 'src/new.ts', content: 'export {};\n' }, env.ctx(undefined, gate));
    const [request] = approver.requests;
    assert.equal(request.kind === 'write' && request.beforeBytes, undefined);
    assert.ok(existsSync(path.join(env.cwd, 'src', 'new.ts')));
  });

  it('Always Allow on a write lets later writes through (allowEdits)', async () => {
    const { gate, approver, policy } = testApproval();
    approver.answer({ kind: 'always' });
    await executeTool('write_file', { path: 'a.txt', content: 'a' }, env.ctx(undefined, gate));
    assert.equal(policy.settings.mode, 'allowEdits');
    await executeTool('write_file', { path: 'b.txt', content: 'b' }, env.ctx(undefined, gate));
    assert.equal(approver.requests.length, 1);
  });

  it('edit_file refuses when the file changed while the person was deciding', async () => {
    writeFileSync(path.join(env.cwd, 'race.txt'), 'alpha\nbeta\n');
    const { gate, approver } = testApproval();
    const pending = executeTool('edit_file', { path: 'race.txt', old_text: 'beta', new_text: 'gamma' }, env.ctx(undefined, gate));
    await approver.untilAsked();
    writeFileSync(path.join(env.cwd, 'race.txt'), 'alpha\nbeta\ndelta\n');
    approver.answer({ kind: 'allow' });
    const result = await pending;
    assert.equal(result.isError, true);
    assert.match(result.content, /changed while the edit waited for approval; nothing was written/);
    assert.equal(readFileSync(path.join(env.cwd, 'race.txt'), 'utf8'), 'alpha\nbeta\ndelta\n');
  });

  it('write_file refuses when the file changed while the person was deciding', async () => {
    writeFileSync(path.join(env.cwd, 'moving.txt'), 'v1\n');
    const { gate, approver } = testApproval();
    const pending = executeTool('write_file', { path: 'moving.txt', content: 'mine\n' }, env.ctx(undefined, gate));
    await approver.untilAsked();
    writeFileSync(path.join(env.cwd, 'moving.txt'), 'v2, written meanwhile\n');
    approver.answer({ kind: 'allow' });
    const result = await pending;
    assert.match(result.content, /changed while the write waited for approval; nothing was written/);
    assert.equal(readFileSync(path.join(env.cwd, 'moving.txt'), 'utf8'), 'v2, written meanwhile\n');
  });

  it('refuses a write through a symbolic link whose target does not exist (into .git/hooks, or out of the workspace)', async () => {
    mkdirSync(path.join(env.cwd, '.git', 'hooks'), { recursive: true });
    symlinkSync('.git/hooks/pre-commit', path.join(env.cwd, 'hook'));
    symlinkSync(path.join(env.outside, 'planted'), path.join(env.cwd, 'out'));
    const { gate, approver } = testApproval({ mode: 'allowEdits' });
    for (const target of ['hook', 'out']) {
      const result = await executeTool('write_file', { path: target, content: '#!/bin/sh\ntouch pwned\n' }, env.ctx(undefined, gate));
      assert.equal(result.isError, true, target);
      assert.match(result.content, /goes through a symbolic link .* whose target does not exist/);
    }
    assert.ok(!existsSync(path.join(env.cwd, '.git', 'hooks', 'pre-commit')));
    assert.ok(!existsSync(path.join(env.outside, 'planted')));
    assert.equal(approver.requests.length, 0);
  });

  it('allowEdits writes without asking, but .vscode/settings.json still asks', async () => {
    const { gate, approver } = testApproval({ mode: 'allowEdits' });
    assert.equal((await executeTool('write_file', { path: 'free.txt', content: 'x' }, env.ctx(undefined, gate))).isError, false);
    assert.equal(approver.requests.length, 0);
    approver.answer({ kind: 'deny' });
    const settings = await executeTool('write_file', { path: '.vscode/settings.json', content: '{"backgroundAgent.allowCommands":["rm"]}' }, env.ctx(undefined, gate));
    assert.equal(settings.isError, true);
    assert.equal(approver.requests.length, 1);
    assert.ok(!existsSync(path.join(env.cwd, '.vscode', 'settings.json')));
  });
});

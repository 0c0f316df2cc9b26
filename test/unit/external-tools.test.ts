// Our background-task tools as other agents call them through VS Code (core/externalTools): the names and
// schemas package.json declares, prepare and invoke against the one approval policy, the caller's own scope
// of tasks, and nothing queued for a conversation that is not ours. Real tools, real processes, real policy.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { RESTRICTED_MESSAGE, type CommandRequest } from '../../src/core/approval/approvalGate';
import { ApprovalPolicy, type ApprovalSettings } from '../../src/core/approval/approvalPolicy';
import { commandQuestion, visible } from '../../src/core/externalTools/confirmationText';
import { ExternalToolCalls, NOT_APPROVED, NOT_NOTIFIED_NOTE } from '../../src/core/externalTools/externalCalls';
import { EXTERNAL_TOOLS, externalInputSchema, externalName } from '../../src/core/externalTools/externalTools';
import { executeTool } from '../../src/core/tools';
import { withEnv } from '../support/tasksKit';
import { createToolEnv, until, type ToolEnv } from '../support/toolEnv';

interface LmToolContribution {
  name: string;
  displayName?: string;
  modelDescription?: string;
  userDescription?: string;
  toolReferenceName?: string;
  canBeReferencedInPrompt?: boolean;
  icon?: string;
  inputSchema?: unknown;
}

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
  contributes: { languageModelTools: LmToolContribution[] };
};

const never = new AbortController().signal;

let env: ToolEnv;
let policy: ApprovalPolicy;
let calls: ExternalToolCalls;
/** What the person answers when asked (the modal dialog), and what they were asked. */
let personSays: boolean | 'cannot-ask';
let asked: Array<{ request: CommandRequest; description: string | undefined }>;
const FAKE_KEY = 'sk-ant-test-stored-key-0123456789abcdef';

function settings(changes: Partial<ApprovalSettings> = {}): ApprovalSettings {
  return { mode: 'ask', allowCommands: [], denyCommands: [], trusted: true, ...changes };
}

beforeEach(async () => {
  env = await createToolEnv();
  policy = new ApprovalPolicy(settings());
  personSays = false;
  asked = [];
  calls = new ExternalToolCalls({
    manager: env.manager,
    policy,
    cwd: () => env.cwd,
    askPerson: async (request, description) => {
      asked.push({ request, description });
      if (personSays === 'cannot-ask') throw new Error('DialogService: refused to show dialog in tests.');
      return personSays;
    },
    secrets: async () => [FAKE_KEY],
  });
});
afterEach(() => env.dispose());

describe('external tools: what VS Code reads from package.json', () => {
  it('declares the three tools under prefixed names, with the schemas the tools themselves validate against', () => {
    const declared = manifest.contributes.languageModelTools;
    assert.deepEqual(
      declared.map((tool) => tool.name),
      EXTERNAL_TOOLS.map(externalName),
    );
    for (const name of EXTERNAL_TOOLS) {
      const tool = declared.find((t) => t.name === externalName(name));
      // On a mismatch, this is what to paste into package.json:
      assert.deepEqual(tool?.inputSchema, externalInputSchema(name), `${externalName(name)} inputSchema should be ${JSON.stringify(externalInputSchema(name))}`);
      // VS Code's own pattern for tool names (copilot_ and vscode_ are reserved).
      assert.match(tool?.name ?? '', /^(?!copilot_|vscode_)[\w-]+$/);
      for (const field of ['displayName', 'modelDescription', 'userDescription', 'toolReferenceName', 'icon'] as const) assert.ok(tool?.[field], `${tool?.name} has ${field}`);
      assert.equal(tool?.canBeReferencedInPrompt, true);
    }
  });

  it('offers background_run without notify_on (nothing can reach another extension\'s conversation)', () => {
    const properties = externalInputSchema('background_run').properties as Record<string, unknown>;
    assert.ok(!('notify_on' in properties));
    assert.ok('wait_for' in properties && 'command' in properties);
  });
});

describe('external tools: prepare', () => {
  it('lets a read-only command or an allow rule run without a confirmation, and starts nothing', async () => {
    assert.deepEqual(await calls.prepare('background_run', { command: 'sleep 5' }, never), { kind: 'run', invocationMessage: 'Starting in the background: sleep 5', asks: false });
    policy.update(settings({ allowCommands: ['npm test'] }));
    assert.equal((await calls.prepare('background_run', { command: 'npm test -- --watch' }, never)).kind, 'run');
    assert.equal(env.manager.list().length, 0, 'prepare is a dry run');
  });

  it('says when the person will be asked first, and starts nothing (no confirmation of VS Code\'s stands for theirs)', async () => {
    const prepared = await calls.prepare('background_run', { command: 'ls && touch made.txt', cwd: '.' }, never);
    assert.deepEqual(prepared, { kind: 'run', invocationMessage: 'Starting in the background: ls && touch made.txt (Background Agent asks you first)', asks: true });
    assert.deepEqual(asked, [], 'prepare never asks');
    assert.equal(env.manager.list().length, 0);
  });

  it('says a deny rule, Restricted Mode, bad input or notify_on will be refused, with the reason invoke gives', async () => {
    policy.update(settings({ mode: 'auto', denyCommands: ['rm'] }));
    const denied = await calls.prepare('background_run', { command: 'rm -rf build' }, never);
    assert.equal(denied.kind, 'refuse');
    assert.match(denied.kind === 'refuse' ? denied.reason : '', /^Refused by the deny rule "rm"/);
    policy.update(settings({ trusted: false }));
    assert.deepEqual(await calls.prepare('background_run', { command: 'echo hi' }, never), { kind: 'refuse', invocationMessage: 'Starting in the background: echo hi', reason: RESTRICTED_MESSAGE });
    const bad = await calls.prepare('background_run', { command: 42 }, never);
    assert.match(bad.kind === 'refuse' ? bad.reason : '', /command/);
    const notify = await calls.prepare('background_run', { command: 'npm run watch', notify_on: 'error' }, never);
    assert.match(notify.kind === 'refuse' ? notify.reason : '', /`notify_on` is not available through VS Code's tools/);
    assert.equal(env.manager.list().length, 0);
  });
});

describe('external tools: invoke', () => {
  it('starts an allowed command as another agent\'s task, with the text our tool gives and a note that nothing is delivered', async () => {
    const result = await calls.invoke('background_run', { command: 'echo from-outside; sleep 30', description: 'outside' }, never);
    assert.equal(result.isError, false, result.content);
    const [task] = env.manager.list();
    assert.deepEqual(task.origin, { kind: 'externalAgent' });
    assert.equal(result.content, `Background task ${task.id} started: echo from-outside; sleep 30${NOT_NOTIFIED_NOTE}`);
  });

  it('asks the person itself about an "ask" command, every time, with the command, folder, description and why', async () => {
    const input = { command: 'touch made.txt', description: 'make a file' };
    const no = await calls.invoke('background_run', input, never);
    assert.equal(no.isError, true);
    assert.equal(no.content, NOT_APPROVED);
    assert.equal(env.manager.list().length, 0, 'nothing started');
    assert.equal(asked.length, 1);
    assert.equal(asked[0].request.command, 'touch made.txt');
    assert.equal(asked[0].request.cwd, env.cwd);
    assert.equal(asked[0].description, 'make a file');
    assert.deepEqual(asked[0].request.parts.map((p) => p.text), ['touch made.txt']);

    personSays = true;
    const yes = await calls.invoke('background_run', input, never);
    assert.equal(yes.isError, false, yes.content);
    assert.equal(env.manager.list().length, 1);
    const again = await calls.invoke('background_run', input, never);
    assert.equal(again.isError, false);
    assert.equal(asked.length, 3, 'asked again for the second run: a yes is for one command once');

    // Where no dialog can be shown (a test host, a headless window), the answer is no.
    personSays = 'cannot-ask';
    const cannot = await calls.invoke('background_run', { command: 'touch other.txt' }, never);
    assert.equal(cannot.content, NOT_APPROVED);
    assert.equal(env.manager.list().length, 2);
  });

  it('judges again at invoke: settings that changed since prepare count, a deny rule always wins without asking', async () => {
    const input = { command: 'touch made.txt' };
    policy.update(settings({ allowCommands: ['touch'] }));
    assert.equal((await calls.prepare('background_run', input, never)).kind, 'run');
    policy.update(settings());
    personSays = false;
    const now = await calls.invoke('background_run', input, never);
    assert.equal(now.content, NOT_APPROVED, 'allowed when prepared, asks now: the person was asked and said no');
    assert.equal(asked.length, 1);

    personSays = true;
    policy.update(settings({ mode: 'auto', denyCommands: ['touch'] }));
    const denied = await calls.invoke('background_run', input, never);
    assert.match(denied.content, /^Refused by the deny rule "touch"/);
    assert.equal(asked.length, 1, 'a denied command is never put to the person');
    assert.equal(env.manager.list().length, 0, 'a denied command never starts');
  });

  it('hides the API key in everything the caller reads, as for our own agent', async () => {
    policy.update(settings({ mode: 'auto' }));
    const result = await calls.invoke('background_run', { command: `echo "found ${FAKE_KEY} in a file"` }, never);
    const id = /Background task (\S+) started/.exec(result.content)?.[1] ?? '';
    await env.manager.waitForEnd(id);
    const checked = await calls.invoke('check_background', { task_id: id }, never);
    assert.match(checked.content, /found \[API key hidden\] in a file/);
    assert.doesNotMatch(checked.content + result.content, new RegExp(FAKE_KEY));
  });

  it('answers bad input with the tool\'s own sentence, and notify_on with why it is not offered', async () => {
    const missing = await calls.invoke('cancel_background', {}, never);
    assert.equal(missing.isError, true);
    assert.deepEqual(missing, await executeTool('cancel_background', {}, env.ctx()));
    const notify = await calls.invoke('background_run', { command: 'echo hi', notify_on: 'x' }, never);
    assert.equal(notify.isError, true);
    assert.equal(env.manager.list().length, 0);
  });

  it('sees, reads and cancels only the tasks started through these tools', async () => {
    const mine = await calls.invoke('background_run', { command: 'echo outside-output; sleep 30' }, never);
    const id = /Background task (\S+) started/.exec(mine.content)?.[1] ?? '';
    const users = env.manager.start({ command: 'sleep 30', cwd: env.cwd, origin: { kind: 'user' } });
    const agents = env.manager.start({ command: 'sleep 31', cwd: env.cwd, origin: { kind: 'agent', conversationId: 'chat-1' } });

    const list = await calls.invoke('check_background', {}, never);
    assert.deepEqual(list.content.split('\n').map((line) => line.split(':')[0]), [id]);
    await until(async () => (await calls.invoke('check_background', { task_id: id }, never)).content.includes('outside-output'), 'the output through check_background');
    for (const other of [users.id, agents.id]) {
      const check = await calls.invoke('check_background', { task_id: other }, never);
      assert.equal(check.isError, true);
      assert.equal(check.content, `No background task has the id "${other}"; known task ids: ${id}.`);
      assert.equal((await calls.invoke('cancel_background', { task_id: other }, never)).isError, true);
      assert.equal(env.manager.get(other)?.status, 'running', 'another origin\'s task is untouched');
    }
    const cancelled = await calls.invoke('cancel_background', { task_id: id }, never);
    assert.match(cancelled.content, new RegExp(`^Task ${id} cancelled after .*: its whole process tree was killed\\.$`));
    assert.equal(env.manager.get(id)?.status, 'cancelled');
  });

  it('queues no notification when its task ends, and hides the API key from it', async () => {
    let queued = 0;
    const subscription = env.manager.notifications.onQueued(() => queued++);
    try {
      await withEnv({ ANTHROPIC_API_KEY: 'sk-ant-test-never-shown-0123456789' }, async () => {
        policy.update(settings({ mode: 'auto' }));
        const result = await calls.invoke('background_run', { command: 'echo "key=[${ANTHROPIC_API_KEY:-unset}]"' }, never);
        const id = /Background task (\S+) started/.exec(result.content)?.[1] ?? '';
        const ended = await env.manager.waitForEnd(id);
        assert.equal(ended.status, 'completed');
        assert.match((await env.manager.readOutput(id)).text, /key=\[unset\]/);
      });
    } finally {
      subscription.dispose();
    }
    assert.equal(queued, 0);
  });

  it('stops waiting when the caller cancels, and leaves the task running', async () => {
    const stop = new AbortController();
    const waiting = calls.invoke('background_run', { command: 'sleep 30', wait_for: 'never printed' }, stop.signal);
    await until(() => env.manager.list()[0]?.waitingUntilReady === true, 'the wait to begin');
    stop.abort();
    const result = await waiting;
    assert.match(result.content, /^Stopped waiting after .*: the call was cancelled\. /);
    assert.match(result.content, /nothing is delivered to you when it ends/);
    assert.doesNotMatch(result.content, /notified|pressed Stop/);
    const [task] = env.manager.list();
    assert.equal(task.status, 'running', 'a cancelled call never kills its task');
    assert.ok(!task.foreground, 'it is an ordinary background task now');
  });
});

describe('external tools: the question put to the person', () => {
  it('names the command, its description, folder and why, with hidden characters shown', () => {
    const request: CommandRequest = { kind: 'command', tool: 'background_run', command: 'rm -rf x\u202e/ tsil', cwd: '/w', parts: [{ text: 'rm -rf x', why: '`rm` is not on the allow list' }], rules: undefined };
    const question = commandQuestion(request, 'clean up');
    assert.match(question.message, /Another agent asks Background Agent to run a command in the background/);
    assert.match(question.detail, /Command:\nrm -rf x\\u\{202e\}\/ tsil/);
    assert.match(question.detail, /Described as: clean up/);
    assert.match(question.detail, /Folder: \/w/);
    assert.match(question.detail, /• rm -rf x: `rm` is not on the allow list/);
    assert.equal(visible('a\u200bb\u2066c'), 'a\\u{200b}b\\u{2066}c');
  });
});

// Approval cards in the chat, inside a real extension host: the real controller, agent loop, SDK and
// processes, with the person's clicks sent as the webview sends them (`approve`, `openDiff`, `stop`).
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApprovalItem } from '../../src/shared/protocol';
import { textReply, toolCall } from '../support/scriptedServer';
import { MemoryState, startChatHarness, until, type ChatHarness } from './chatHarness';

describe('Chat approval cards', function () {
  this.timeout(60_000);
  let h: ChatHarness;

  afterEach(async () => {
    await h?.dispose();
  });

  const cards = (): ApprovalItem[] => h.view.of('approval');
  const waitingCard = async (n = 1): Promise<ApprovalItem> => {
    await until(() => cards().filter((c) => c.state === 'pending').length >= 1 && cards().length >= n, `approval card ${n}`);
    return cards()[n - 1];
  };
  const lastAnswer = async (text: string): Promise<void> => until(() => h.view.of('assistant').some((a) => a.text === text && !a.streaming), `the answer "${text}"`);

  it('Allow runs the command; the card shows the command, its folder and the part that needs approval', async () => {
    h = await startChatHarness({ approval: { mode: 'ask' } });
    h.server.enqueue(toolCall('bash', { command: 'ls && touch allowed.txt' }), textReply('Created.'));
    await h.controller.handle({ type: 'send', text: 'create a file' });
    const card = await waitingCard();
    assert.equal(card.tool, 'bash');
    assert.deepEqual(card.request, {
      subject: 'command',
      command: 'ls && touch allowed.txt',
      cwd: h.workspace,
      parts: [{ text: 'touch allowed.txt', why: '`touch` is not on the allow list' }],
      rules: ['touch'],
    });
    assert.equal(h.controller.pendingApprovals, 1);
    assert.equal(existsSync(join(h.workspace, 'allowed.txt')), false, 'nothing ran before the answer');
    await h.controller.handle({ type: 'approve', id: card.id, answer: 'allow' });
    await lastAnswer('Created.');
    assert.equal(cards()[0].state, 'allowed');
    assert.equal(h.controller.pendingApprovals, 0);
    assert.ok(existsSync(join(h.workspace, 'allowed.txt')));
    assert.equal(h.view.of('tool')[0].state, 'done');
  });

  it('Deny refuses it: the tool card shows the refusal, the model gets is_error and the turn goes on', async () => {
    h = await startChatHarness({ approval: { mode: 'ask' } });
    h.server.enqueue(toolCall('bash', { command: 'rm -rf build' }), textReply('OK, I will leave it.'));
    await h.controller.handle({ type: 'send', text: 'delete build' });
    const card = await waitingCard();
    await h.controller.handle({ type: 'approve', id: card.id, answer: 'deny' });
    await lastAnswer('OK, I will leave it.');
    assert.equal(cards()[0].state, 'denied');
    const tool = h.view.of('tool')[0];
    assert.equal(tool.state, 'error');
    assert.match(tool.result ?? '', /^The person denied running `rm -rf build`/);
    const result = JSON.stringify(h.server.accepted[1].body?.messages?.at(-1));
    assert.match(result, /"is_error":true/);
    assert.equal(h.server.rejected.length, 0);
  });

  it('Always Allow stores the rule it shows; the same prefix then runs without a card', async () => {
    h = await startChatHarness({ approval: { mode: 'ask' } });
    h.server.enqueue(toolCall('bash', { command: 'make build' }), toolCall('bash', { command: 'make build --jobs=4' }), textReply('Built twice.'));
    await h.controller.handle({ type: 'send', text: 'build' });
    const card = await waitingCard();
    assert.deepEqual(card.request.subject === 'command' && card.request.rules, ['make build']);
    await h.controller.handle({ type: 'approve', id: card.id, answer: 'always' });
    await lastAnswer('Built twice.');
    assert.equal(cards().length, 1, 'no second card');
    assert.equal(cards()[0].state, 'always');
    assert.deepEqual(h.remembered.map((r) => r.kind === 'command' && r.rules), [['make build']], 'the controller asked to store the rule');
    assert.deepEqual(h.policy.sessionRules, ['make build']);
  });

  it('a write shows its diff, opens in the diff editor on request, and is written once allowed', async () => {
    h = await startChatHarness({ approval: { mode: 'ask' } });
    writeFileSync(join(h.workspace, 'config.txt'), 'port=80\nhost=a\n');
    h.server.enqueue(toolCall('edit_file', { path: 'config.txt', old_text: 'port=80', new_text: 'port=8080' }), textReply('Changed the port.'));
    await h.controller.handle({ type: 'send', text: 'change the port' });
    const card = await waitingCard();
    assert.equal(card.request.subject, 'write');
    if (card.request.subject !== 'write') return;
    assert.equal(card.request.path, 'config.txt');
    assert.equal(card.request.newFile, false);
    assert.equal(card.request.diff, '@@ -1,2 +1,2 @@\n-port=80\n+port=8080\n host=a');
    assert.deepEqual([card.request.added, card.request.removed], [1, 1]);
    await h.controller.handle({ type: 'openDiff', id: card.id });
    assert.deepEqual(h.ui.openDiff, ['config.txt']);
    assert.equal(readFileSync(join(h.workspace, 'config.txt'), 'utf8'), 'port=80\nhost=a\n', 'unchanged while it waits');
    await h.controller.handle({ type: 'approve', id: card.id, answer: 'allow' });
    await lastAnswer('Changed the port.');
    assert.equal(readFileSync(join(h.workspace, 'config.txt'), 'utf8'), 'port=8080\nhost=a\n');
  });

  it('Stop answers the waiting card with a denial; tasks already running keep running; a late answer changes nothing', async () => {
    h = await startChatHarness({ approval: { mode: 'ask' } });
    h.server.enqueue(toolCall('background_run', { command: 'sleep 30', description: 'long' }), toolCall('bash', { command: 'touch later.txt' }));
    await h.controller.handle({ type: 'send', text: 'start and then touch' });
    const card = await waitingCard();
    const running = h.manager.list().find((t) => t.command === 'sleep 30');
    assert.equal(running?.status, 'running', 'a waiting card does not block the task already started');
    await h.controller.handle({ type: 'stop' });
    await until(() => cards()[0].state === 'stopped' && !h.controller.busy, 'the card to be answered by Stop');
    assert.equal(card.id, cards()[0].id);
    assert.equal(h.controller.pendingApprovals, 0);
    assert.equal(existsSync(join(h.workspace, 'later.txt')), false);
    assert.equal(h.manager.get(running?.id ?? '')?.status, 'running');
    // An answer that comes too late changes nothing (given time to, it would have started the command).
    await h.controller.handle({ type: 'approve', id: card.id, answer: 'allow' });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(existsSync(join(h.workspace, 'later.txt')), false);
    assert.equal(cards()[0].state, 'stopped');
  });

  it('Show Waiting Approval opens the chat whose card waits, when another chat is shown', async () => {
    h = await startChatHarness({ approval: { mode: 'ask' } });
    h.server.enqueue(toolCall('bash', { command: 'touch from-first-chat' }), textReply('done'));
    await h.controller.handle({ type: 'send', text: 'first chat asks' });
    const card = await waitingCard();
    const first = h.controller.activeChatId;
    await h.controller.newChat();
    assert.notEqual(h.controller.activeChatId, first, 'another chat is shown');
    assert.equal(await h.controller.showWaitingApproval(), true);
    assert.equal(h.controller.activeChatId, first);
    await until(() => h.view.of('approval').some((c) => c.id === card.id && c.state === 'pending'), 'the waiting card shown again');
    await h.controller.handle({ type: 'approve', id: card.id, answer: 'deny' });
    await until(() => h.controller.pendingApprovals === 0, 'no card waiting');
    assert.equal(await h.controller.showWaitingApproval(), false);
  });

  it('counts waiting cards for the badge and the status bar', async () => {
    h = await startChatHarness({ approval: { mode: 'ask' } });
    const counts: number[] = [];
    h.controller.onApprovalsChanged((n) => counts.push(n));
    h.server.enqueue(toolCall('bash', { command: 'touch a' }), textReply('done'));
    await h.controller.handle({ type: 'send', text: 'touch a' });
    const card = await waitingCard();
    await h.controller.handle({ type: 'approve', id: card.id, answer: 'allow' });
    await lastAnswer('done');
    assert.deepEqual(counts, [1, 0]);
  });

  it('a card still waiting when the window closed comes back answered (stopped), not clickable', async () => {
    const state = new MemoryState();
    h = await startChatHarness({ approval: { mode: 'ask' }, state });
    h.server.enqueue(toolCall('bash', { command: 'touch x' }));
    await h.controller.handle({ type: 'send', text: 'touch x' });
    await waitingCard();
    await h.store.flush();
    const reopened = await h.reopen();
    await reopened.controller.handle({ type: 'ready' });
    const restored = reopened.view.of('approval')[0];
    assert.equal(restored.state, 'stopped');
    assert.equal(reopened.controller.pendingApprovals, 0);
  });

  it('in Restricted Mode the chat says so, commands are refused with the reason, Manage Workspace Trust is one click, and the view hears when trust changes', async () => {
    h = await startChatHarness({ approval: { mode: 'auto', trusted: false } });
    const init = h.view.messages.find((m) => m.type === 'init');
    assert.equal(init?.type === 'init' && init.state.trusted, false);
    h.server.enqueue(toolCall('bash', { command: 'ls' }), textReply('I can only read here.'));
    await h.controller.handle({ type: 'send', text: 'list files' });
    await lastAnswer('I can only read here.');
    assert.match(h.view.of('tool')[0].result ?? '', /^Refused: this folder is in Restricted Mode/);
    assert.equal(cards().length, 0, 'nothing to approve: it is refused');
    await h.controller.handle({ type: 'manageTrust' });
    assert.equal(h.ui.manageTrust, 1);
    // Trust granted: the notice goes without a reload.
    h.trusted = true;
    h.policy.update({ ...h.policy.settings, trusted: true });
    h.controller.onTrustChanged();
    assert.deepEqual(h.view.messages.at(-1), { type: 'trust', trusted: true });
  });
});

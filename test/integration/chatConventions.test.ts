// The chat's conventions from the controller's side, in a real extension host against the scripted server:
// edit and resend, the model picker per chat, deleting chats, and a code block's Insert at Cursor / Open in
// Editor reaching VS Code. (What the person clicks is covered in test/e2e/chat.e2e.ts.)
import * as assert from 'node:assert/strict';
import { heldReply, textReply, toolCall } from '../support/scriptedServer';
import { startChatHarness, until, type ChatHarness } from './chatHarness';

describe('Chat conventions', function () {
  this.timeout(60_000);
  let h: ChatHarness;

  afterEach(async () => {
    await h?.dispose();
  });

  async function exchange(text: string, answer: string): Promise<void> {
    h.server.enqueue(textReply(answer));
    await h.controller.handle({ type: 'send', text });
    await until(() => !h.controller.busy && h.view.of('assistant').some((a) => a.text === answer && !a.streaming), `the answer "${answer}"`);
  }

  it('edit and resend replaces the last message and everything after it, in the chat and in what the model gets', async () => {
    h = await startChatHarness();
    await exchange('first question', 'First answer.');
    h.server.enqueue(toolCall('bash', { command: 'echo tool-ran' }), textReply('Second answer, after a tool.'));
    await h.controller.handle({ type: 'send', text: 'second question, with a typo' });
    await until(() => !h.controller.busy && h.view.of('assistant').some((a) => a.text === 'Second answer, after a tool.'), 'the second answer');
    const edited = h.view.of('user').at(-1)!;
    assert.equal(edited.text, 'second question, with a typo');

    h.server.enqueue(textReply('Answer to the edited question.'));
    await h.controller.handle({ type: 'resend', id: edited.id, text: 'second question, fixed' });
    await until(() => !h.controller.busy && h.view.of('assistant').some((a) => a.text === 'Answer to the edited question.' && !a.streaming), 'the new answer');

    // The chat: the old message, its tool card and its answer are gone; the new message and answer follow the first exchange.
    assert.deepEqual(h.view.shape, ['user', 'assistant', 'user', 'assistant']);
    assert.deepEqual(h.view.of('user').map((u) => u.text), ['first question', 'second question, fixed']);
    assert.ok(h.view.messages.some((m) => m.type === 'truncate' && m.fromId === edited.id), 'the webview was told what to remove');
    // The model: the first exchange, then only the edited message.
    const sent = JSON.stringify(h.server.accepted.at(-1)?.body?.messages);
    assert.match(sent, /first question/);
    assert.match(sent, /First answer\./);
    assert.match(sent, /second question, fixed/);
    assert.doesNotMatch(sent, /with a typo|tool-ran|after a tool/);
    // And the stored chat is what is shown (a reload brings back the edited conversation).
    await h.store.flush();
    const reloaded = await h.reopen();
    await reloaded.controller.handle({ type: 'ready' });
    assert.deepEqual(reloaded.view.of('user').map((u) => u.text), ['first question', 'second question, fixed']);
  });

  it('edit and resend keeps the background results the replaced turn received: the model still gets them', async () => {
    h = await startChatHarness();
    h.server.enqueue(toolCall('background_run', { command: 'echo built-the-thing', description: 'build' }), textReply('Started the build.'), textReply('The build printed built-the-thing.'));
    await h.controller.handle({ type: 'send', text: 'build it, with a typo' });
    // The task ends, its result wakes the chat, the model reads it in the auto-resumed turn.
    await until(() => !h.controller.busy && h.view.of('assistant').some((a) => a.text === 'The build printed built-the-thing.' && !a.streaming), 'the resumed answer');
    const edited = h.view.of('user').at(-1)!;
    h.server.enqueue(textReply('Fixed request answered.'));
    await h.controller.handle({ type: 'resend', id: edited.id, text: 'build it, fixed' });
    await until(() => !h.controller.busy && h.view.of('assistant').some((a) => a.text === 'Fixed request answered.' && !a.streaming), 'the new answer');
    const sent = JSON.stringify(h.server.accepted.at(-1)?.body?.messages);
    assert.match(sent, /background-results/, 'the delivered result is still there for the model');
    assert.match(sent, /built-the-thing/);
    assert.match(sent, /build it, fixed/);
    assert.doesNotMatch(sent, /with a typo|Started the build/);
  });

  it('edit and resend only takes the last message, never while a turn runs, and not once it was summarized', async () => {
    h = await startChatHarness();
    await exchange('one', 'Answer one.');
    await exchange('two', 'Answer two.');
    const [first, last] = h.view.of('user');
    const requests = h.server.accepted.length;
    await h.controller.handle({ type: 'resend', id: first.id, text: 'one, edited' });
    assert.deepEqual(h.view.of('user').map((u) => u.text), ['one', 'two'], 'an older message is not edited');
    assert.equal(h.server.accepted.length, requests);

    // Compacted: the last message now lives in the summary, so it is said, and nothing is lost.
    h.server.enqueue(textReply('Summary: the person asked one and two.'));
    await h.controller.handle({ type: 'compact' });
    await until(() => h.view.of('compaction').length === 1 && !h.controller.busy, 'the compaction');
    await h.controller.handle({ type: 'resend', id: last.id, text: 'two, edited' });
    assert.deepEqual(h.view.of('user').map((u) => u.text), ['one', 'two']);
    assert.match(h.view.of('system').at(-1)?.text ?? '', /summarized .* cannot be edited/);
  });

  it('the model picker sets the model of this chat only, kept across a reload; the picker offers the setting and known models', async () => {
    h = await startChatHarness();
    assert.equal(h.view.models?.model, 'claude-test', 'the setting is the default');
    assert.ok(h.view.models?.models.includes('claude-sonnet-5-5'), 'known models are offered');
    await exchange('hello', 'From the setting’s model.');
    await h.controller.handle({ type: 'setModel', model: 'claude-haiku-4-5' });
    assert.equal(h.view.models?.model, 'claude-haiku-4-5');
    await exchange('again', 'From the picked model.');
    assert.deepEqual(h.server.accepted.map((r) => r.body?.model), ['claude-test', 'claude-haiku-4-5']);
    // Usage adds up across the two models' sessions (each request: 100 in, 20 out).
    assert.equal(h.view.usage?.inputTokens, 200);
    assert.equal(h.view.usage?.outputTokens, 40);
    assert.match(JSON.stringify(h.server.accepted[1].body?.messages), /From the setting’s model/, 'the history goes on');

    // A model the picker does not offer is refused (the webview is not trusted with any string).
    await h.controller.handle({ type: 'setModel', model: 'evil-model' });
    assert.equal(h.view.models?.model, 'claude-haiku-4-5');

    // Another chat starts on the setting; the first keeps its pick after a reload.
    const firstId = h.controller.activeChatId;
    await h.controller.handle({ type: 'newChat' });
    assert.equal(h.view.models?.model, 'claude-test');
    await exchange('other chat', 'Other chat answer.');
    assert.equal(h.server.accepted.at(-1)?.body?.model, 'claude-test');
    await h.store.flush();
    const reloaded = await h.reopen();
    await reloaded.controller.openChatById(firstId!);
    assert.equal(reloaded.view.models?.model, 'claude-haiku-4-5');
  });

  it('deletes a chat from the history after asking, and all chats; a deleted chat shown gives way to a new one', async () => {
    h = await startChatHarness();
    await exchange('keep me', 'Kept.');
    const keptId = h.controller.activeChatId!;
    await h.controller.handle({ type: 'newChat' });
    await exchange('delete me', 'Soon gone.');
    const goneId = h.controller.activeChatId!;
    await h.store.flush();

    // Dismissed: nothing happens.
    h.confirmAnswer = false;
    h.historyChoice = { action: 'delete', id: goneId };
    await h.controller.showHistory();
    assert.equal(h.store.list().length, 2);
    assert.match(h.ui.confirm.at(-1) ?? '', /Delete the chat "delete me"\?/);

    // Confirmed: the chat shown is deleted, a new empty one is shown, the history comes back with the rest.
    h.confirmAnswer = true;
    h.historyChoice = { action: 'delete', id: goneId };
    await h.controller.showHistory();
    assert.deepEqual(h.store.list().map((c) => c.id), [keptId]);
    assert.equal(await h.store.load(goneId), undefined, 'its file is gone');
    assert.notEqual(h.controller.activeChatId, goneId);
    assert.deepEqual(h.view.items, [], 'a new empty chat is shown');
    assert.deepEqual(h.ui.pickChat.at(-1), ['keep me'], 'the history came back after the deletion');

    // Delete All (the history's title button): everything goes.
    await h.controller.handle({ type: 'newChat' });
    await exchange('one more', 'More.');
    await h.store.flush();
    h.historyChoice = { action: 'deleteAll' };
    await h.controller.showHistory();
    assert.match(h.ui.confirm.at(-1) ?? '', /Delete all 2 chats of this workspace\?/);
    assert.deepEqual(h.store.list(), []);
    assert.deepEqual(h.view.items, []);
  });

  it('a chat deleted while its task runs: the task keeps running, the question says so, its results are dropped', async () => {
    h = await startChatHarness();
    h.server.enqueue(toolCall('background_run', { command: 'sleep 30', description: 'long' }), textReply('Started.'));
    await h.controller.handle({ type: 'send', text: 'start something long' });
    await until(() => !h.controller.busy && h.view.of('task').length === 1, 'the task chip');
    const chatId = h.controller.activeChatId!;
    const taskId = h.view.of('task')[0].taskId;
    assert.equal(await h.controller.deleteChat(), true);
    assert.match(h.ui.confirm.at(-1) ?? '', /Delete the chat/);
    assert.notEqual(h.controller.activeChatId, chatId);
    assert.equal(h.manager.get(taskId)?.status, 'running', 'the task is the person’s to cancel in Background Tasks');
    await h.manager.cancel(taskId);
    await h.manager.waitForEnd(taskId);
    // Its ending is not kept for the deleted chat (nobody would ever take it), and no turn starts anywhere.
    await until(() => h.manager.notifications.pendingCount(chatId) === 0, 'the dropped result');
    assert.equal(h.controller.busy, false);
    assert.deepEqual(h.view.items, []);
  });

  it('deleting a chat mid-answer stops its turn, and nothing that was still saving brings it back', async () => {
    h = await startChatHarness();
    await exchange('an earlier chat', 'Earlier.');
    await h.controller.handle({ type: 'newChat' });
    const held = heldReply(textReply('An answer nobody will see.', { chunkSize: 3 }));
    h.server.enqueue(held.step);
    await h.controller.handle({ type: 'send', text: 'doomed chat' });
    await h.server.waitForRequests(2);
    const doomed = h.controller.activeChatId!;
    assert.equal(h.controller.busy, true);
    await h.controller.deleteChat();
    held.release();
    await h.store.flush();
    assert.notEqual(h.controller.activeChatId, doomed);
    assert.equal(h.controller.busy, false, 'its turn stopped; the new chat is idle');
    assert.deepEqual(h.store.list().map((c) => c.title), ['an earlier chat']);
    assert.equal(await h.store.load(doomed), undefined);
    // A message to the controller now goes to the new chat, never to the deleted one.
    await exchange('after the deletion', 'Fresh.');
    await h.store.flush();
    assert.deepEqual(h.store.list().map((c) => c.title).sort(), ['after the deletion', 'an earlier chat']);
  });

  it('forwards a code block’s Insert at Cursor and Open in Editor', async () => {
    h = await startChatHarness();
    await h.controller.handle({ type: 'insertCode', text: 'const x = 1;\n' });
    await h.controller.handle({ type: 'openFile', path: 'src/app.ts' });
    assert.deepEqual(h.ui.insertAtCursor, ['const x = 1;\n']);
    assert.deepEqual(h.ui.openFile, ['src/app.ts']);
  });
});

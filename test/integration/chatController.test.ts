// The chat controller inside a real extension host, against the scripted Anthropic server through the
// real SDK, with real background processes: what the webview is told, in order, for each situation.
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dropAfter, errorReply, fnStep, textReply, toolCall, toolCalls } from '../support/scriptedServer';
import { isSummaryCall } from '../support/agentHarness';
import { startChatHarness, until, type ChatHarness } from './chatHarness';

describe('Chat controller', function () {
  this.timeout(60_000);
  let h: ChatHarness;

  afterEach(async () => {
    await h?.dispose();
  });

  it('replays an empty chat on ready and streams an answer as deltas into one assistant item', async () => {
    h = await startChatHarness();
    assert.ok(h.view.inits >= 1, 'the webview got the full state');
    assert.deepEqual(h.view.items, []);
    assert.ok(h.activeChat.conversationId, 'the open chat is recorded for tasks the person starts');
    const answer = 'Hello **there**.\n\nA second paragraph with `code`.';
    h.server.enqueue(textReply(answer, { chunkSize: 5 }));
    await h.controller.handle({ type: 'send', text: 'Say hello' });
    await until(() => !h.controller.busy && h.view.of('assistant').at(0)?.streaming === false, 'the answer to finish');
    assert.deepEqual(h.view.shape, ['user', 'assistant']);
    assert.equal(h.view.of('user')[0].text, 'Say hello');
    assert.equal(h.view.of('assistant')[0].text, answer);
    assert.ok(h.view.messages.filter((m) => m.type === 'textDelta').length >= 1);
    assert.equal(h.view.busy, false);
    assert.ok(h.view.messages.some((m) => m.type === 'busy' && m.busy), 'busy was announced while the turn ran');
    assert.equal(h.view.usage?.inputTokens, 100, 'token usage reaches the view');
    const body = JSON.stringify(h.server.accepted[0].body?.messages);
    assert.match(body, /Say hello/);
  });

  it('shows a tool call as a card that goes from running to done with its result, and a tool error as an error', async () => {
    h = await startChatHarness();
    h.server.enqueue(
      toolCall('bash', { command: 'echo card-output' }),
      toolCall('read_file', { path: 'does-not-exist.txt' }),
      textReply('Done.'),
    );
    await h.controller.handle({ type: 'send', text: 'run something' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Done.' && !a.streaming), 'the final answer');
    const [bash, read] = h.view.of('tool');
    assert.equal(bash.name, 'bash');
    assert.equal(bash.summary, 'echo card-output');
    assert.equal(bash.state, 'done');
    assert.match(bash.result ?? '', /card-output/);
    assert.equal(read.name, 'read_file');
    assert.equal(read.summary, 'does-not-exist.txt');
    assert.equal(read.state, 'error');
    const states = h.view.messages.filter((m) => (m.type === 'append' || m.type === 'update') && m.item.id === bash.id).map((m) => (m.type !== 'textDelta' && 'item' in m && m.item.kind === 'tool' ? m.item.state : ''));
    assert.deepEqual(states, ['running', 'done']);
  });

  it('follows a background_run with a task chip, delivers its result and marks the auto-resumed turn', async () => {
    h = await startChatHarness();
    h.server.enqueue(
      toolCall('background_run', { command: 'sleep 1 && echo bg-done', description: 'Slow build' }),
      textReply('Started it.'),
      textReply('The build said bg-done.'),
    );
    await h.controller.handle({ type: 'send', text: 'build it' });
    await until(() => h.view.of('task').length === 1, 'a task chip');
    const chip = h.view.of('task')[0];
    assert.equal(chip.command, 'sleep 1 && echo bg-done');
    assert.equal(chip.description, 'Slow build');
    assert.equal(chip.byUser, false);
    await until(() => h.view.of('task')[0].status === 'completed', 'the chip to complete');
    assert.equal(h.view.of('task')[0].exitCode, 0);
    await until(() => h.view.of('assistant').some((a) => a.text === 'The build said bg-done.' && !a.streaming), 'the auto-resumed answer');
    const systems = h.view.of('system').map((s) => `${s.tone}: ${s.text}`);
    assert.deepEqual(systems, ['background: Turn started by finished background tasks, not by you', 'delivered: 1 background result delivered']);
    // Order: the resumed turn is marked before its answer.
    const shape = h.view.shape.join(',');
    assert.match(shape, /^user,tool,task,assistant,system,system,assistant$/);
    assert.match(JSON.stringify(h.server.accepted[2].body?.messages), /background-results/);
    // Clicking the chip asks VS Code to reveal that task.
    await h.controller.handle({ type: 'revealTask', taskId: chip.taskId });
    assert.deepEqual(h.ui.revealTask, [chip.taskId]);
  });

  it('a burst of 40 finished tasks is one block for the model and one "40 background results delivered" item', async () => {
    h = await startChatHarness();
    const harness = h;
    const starts = Array.from({ length: 40 }, (_, i) => ({ name: 'background_run', input: { command: `while [ ! -f gate ]; do sleep 0.02; done; echo out-${i}` } }));
    harness.server.enqueue(
      toolCalls(starts),
      // All forty end while the model answers the start; the turn goes on to deliver them.
      fnStep(async () => {
        writeFileSync(join(harness.workspace, 'gate'), '');
        await Promise.all(harness.manager.list().map((t) => harness.manager.waitForEnd(t.id)));
        return textReply('Forty started.');
      }),
      textReply('All forty printed their line.'),
    );
    await harness.controller.handle({ type: 'send', text: 'run forty' });
    await until(() => harness.view.of('assistant').some((a) => a.text === 'All forty printed their line.' && !a.streaming), 'the answer to the results');
    assert.deepEqual(harness.view.of('system').map((s) => s.text), ['40 background results delivered']);
    assert.equal(harness.view.of('task').length, 40);
    const block = JSON.stringify(harness.server.accepted[2].body?.messages?.at(-1));
    assert.equal(block.match(/\[bg:/g)?.length, 40);
    assert.deepEqual(harness.server.rejected, []);
  });

  it('with auto-resume off, a finished task waits for the next message, which delivers its result', async () => {
    h = await startChatHarness();
    h.autoResume = false;
    h.controller.onSettingsChanged();
    h.server.enqueue(toolCall('background_run', { command: 'sleep 1; echo quick' }), textReply('Started.'));
    await h.controller.handle({ type: 'send', text: 'start it' });
    await until(() => h.view.of('task')[0]?.status === 'completed' && !h.view.busy, 'the task to complete');
    // Give a wrongly enabled auto-resume its chance to fire; nothing may be sent.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(h.server.requests.length, 2);
    assert.equal(h.view.of('system').length, 0);
    h.server.enqueue(textReply('It printed quick.'));
    await h.controller.handle({ type: 'send', text: 'what happened?' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'It printed quick.' && !a.streaming), 'the answer');
    assert.deepEqual(h.view.of('system').map((s) => s.text), ['1 background result delivered']);
    assert.match(JSON.stringify(h.server.accepted[2].body?.messages), /background-results/);
  });

  it('Stop aborts the stream at once, keeps background tasks running, and the next message works', async () => {
    h = await startChatHarness();
    h.server.enqueue(toolCall('background_run', { command: 'sleep 30' }), textReply('x'.repeat(4000), { chunkSize: 10, delayMs: 20 }));
    await h.controller.handle({ type: 'send', text: 'long one' });
    await until(() => (h.view.of('assistant')[0]?.text.length ?? 0) > 50, 'streaming to start');
    h.controller.stop();
    await until(() => !h.view.busy, 'the turn to end');
    const partial = h.view.of('assistant')[0];
    assert.equal(partial.streaming, false);
    assert.ok(partial.text.length < 4000, 'the stream was cut');
    assert.equal(h.view.of('system').at(-1)?.text, 'Stopped. Background tasks keep running.');
    const task = h.manager.list()[0];
    assert.equal(task.status, 'running', 'the background task survived the Stop');
    h.server.enqueue(textReply('Second answer.'));
    await h.controller.handle({ type: 'send', text: 'again' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Second answer.' && !a.streaming), 'the second answer');
    assert.equal(h.server.rejected.length, 0, 'the history stayed valid for the API');
    await h.manager.cancel(task.id);
  });

  it('Stop abandons a running foreground tool at once and shows its card as stopped', async () => {
    h = await startChatHarness();
    h.server.enqueue(toolCall('bash', { command: 'sleep 30' }));
    await h.controller.handle({ type: 'send', text: 'wait a lot' });
    await until(() => h.view.of('tool')[0]?.state === 'running', 'the tool to run');
    h.controller.stop();
    // The turn ends without waiting for the 30 s command, and the command's process tree is killed.
    await until(() => !h.view.busy, 'the turn to end');
    assert.equal(h.view.of('tool')[0].state, 'stopped');
    await until(() => h.manager.list().every((t) => t.status !== 'running'), 'the foreground command to be killed');
    assert.equal(h.view.of('task').length, 0, 'a foreground command gets no background chip');
    h.server.enqueue(textReply('Fine.'));
    await h.controller.handle({ type: 'send', text: 'next' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Fine.' && !a.streaming), 'the next answer');
    assert.equal(h.server.rejected.length, 0);
  });

  it('shows overload after retries as an error with Retry; Retry re-runs the kept message once', async () => {
    h = await startChatHarness();
    for (let i = 0; i < 5; i++) h.server.enqueue(errorReply(529));
    await h.controller.handle({ type: 'send', text: 'are you there' });
    await until(() => h.view.of('error').length === 1 && !h.view.busy, 'the error');
    const error = h.view.of('error')[0];
    assert.equal(error.errorKind, 'overloaded');
    assert.equal(error.canRetry, true);
    assert.ok(h.view.messages.some((m) => m.type === 'status' && /overloaded; retrying/.test(m.text)), 'retries were visible while they happened');
    h.server.enqueue(textReply('Recovered.'));
    await h.controller.handle({ type: 'retry' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Recovered.' && !a.streaming), 'the retried answer');
    assert.equal(h.view.of('error')[0].canRetry, false, 'the old error no longer offers Retry');
    assert.equal(h.view.of('user').length, 1, 'Retry does not add the message again');
    const sent = JSON.stringify(h.server.accepted.at(-1)?.body?.messages);
    assert.equal(sent.split('are you there').length - 1, 1);
    assert.equal(h.view.status, '');
  });

  it('shows a dropped connection as a connection error with Retry', async () => {
    h = await startChatHarness();
    for (let i = 0; i < 5; i++) h.server.enqueue(dropAfter(0, textReply('never')));
    await h.controller.handle({ type: 'send', text: 'hello?' });
    await until(() => h.view.of('error').length === 1 && !h.view.busy, 'the error');
    assert.equal(h.view.of('error')[0].errorKind, 'connection');
    h.server.enqueue(textReply('Connected again.'));
    await h.controller.handle({ type: 'retry' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Connected again.' && !a.streaming), 'the retried answer');
  });

  it('reports a missing key without calling the API, then Set API Key and Retry work', async () => {
    h = await startChatHarness({ apiKey: undefined });
    await h.controller.handle({ type: 'send', text: 'hi without key' });
    await until(() => h.view.of('error').length === 1 && !h.view.busy, 'the auth error');
    assert.equal(h.view.of('error')[0].errorKind, 'auth');
    assert.equal(h.server.requests.length, 0);
    h.keyToEnter = 'sk-ant-new';
    await h.controller.handle({ type: 'setApiKey' });
    assert.equal(h.ui.promptApiKey, 1);
    h.server.enqueue(textReply('Now it works.'));
    await h.controller.handle({ type: 'retry' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Now it works.' && !a.streaming), 'the answer with the new key');
    assert.match(JSON.stringify(h.server.accepted[0].headers), /sk-ant-new/);
  });

  it('shows an invalid key (401) as an auth error', async () => {
    h = await startChatHarness();
    h.server.enqueue(errorReply(401, { message: 'invalid x-api-key' }));
    await h.controller.handle({ type: 'send', text: 'hi' });
    await until(() => h.view.of('error').length === 1 && !h.view.busy, 'the auth error');
    assert.equal(h.view.of('error')[0].errorKind, 'auth');
    assert.match(h.view.of('error')[0].message, /key/);
  });

  it('replays a chat mid-stream to a webview that reconnects, without losing or doubling text', async () => {
    h = await startChatHarness();
    const answer = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    h.server.enqueue(textReply(answer, { chunkSize: 7, delayMs: 15 }));
    await h.controller.handle({ type: 'send', text: 'stream' });
    await until(() => (h.view.of('assistant')[0]?.text.length ?? 0) > 40, 'some text');
    // The view is hidden (webview destroyed) and shown again: a new webview says ready.
    const { ViewModel } = await import('./chatHarness');
    const second = new ViewModel();
    h.controller.attachView((m) => second.apply(m));
    await h.controller.handle({ type: 'ready' });
    assert.equal(second.inits, 1);
    assert.equal(second.busy, true);
    await until(() => second.of('assistant')[0]?.streaming === false, 'the answer to finish in the new view');
    assert.equal(second.of('assistant')[0].text, answer);
  });

  it('Compact Conversation: a divider with the summary, the context meter, a shorter history that a reload keeps', async () => {
    h = await startChatHarness({ server: { contextLimit: 200_000 } });
    writeFileSync(join(h.workspace, 'notes.txt'), 'a line of notes\n'.repeat(1500));
    h.server.enqueue(toolCall('background_run', { command: 'sleep 30', description: 'kept by id' }), toolCall('read_file', { path: 'notes.txt' }), textReply('Started it.'));
    await h.controller.handle({ type: 'send', text: 'start a sleeper please' });
    await until(() => !h.controller.busy && h.view.of('assistant').at(-1)?.streaming === false, 'the first answer');
    assert.ok(h.view.context && h.view.context.usedTokens > 0 && h.view.context.windowTokens === 200_000, JSON.stringify(h.view.context));
    const sleeper = h.manager.list().find((t) => t.command === 'sleep 30');
    assert.ok(sleeper);

    h.server.enqueue(textReply('The person asked for a sleeper; it runs.'));
    await h.controller.handle({ type: 'compact' });
    await until(() => h.view.of('compaction').length === 1 && !h.controller.busy, 'the compaction divider');
    const divider = h.view.of('compaction')[0];
    assert.equal(divider.summary, 'The person asked for a sleeper; it runs.');
    assert.equal(divider.reason, 'manual');
    assert.ok(divider.afterTokens < divider.beforeTokens / 2, `${divider.beforeTokens} → ${divider.afterTokens}`);
    assert.equal(h.view.status, '', 'the "Summarizing" status is cleared');
    assert.deepEqual(h.view.shape.slice(0, 2), ['user', 'tool'], 'the person still sees everything above the divider');

    // The next call carries the summary, the request and the task table, and is valid for the API.
    h.server.enqueue(textReply('Still here.'));
    await h.controller.handle({ type: 'send', text: 'are you there?' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Still here.' && !a.streaming), 'the answer after compaction');
    const messages = h.server.accepted.at(-1)?.body?.messages ?? [];
    assert.equal(messages.length, 3, 'the summary, the last answer, the new message');
    assert.doesNotMatch(JSON.stringify(messages), /a line of notes/, 'the file read before is gone from the history');
    const first = JSON.stringify(messages[0]);
    assert.match(first, /The person asked for a sleeper; it runs\./);
    assert.match(first, /start a sleeper please/);
    assert.match(first, new RegExp(`${sleeper.id} \\| running`));
    assert.deepEqual(h.server.rejected, []);

    await h.store.flush();
    const reloaded = await h.reopen();
    await reloaded.controller.handle({ type: 'ready' });
    assert.equal(reloaded.view.of('compaction').length, 1, 'the divider is kept');
    assert.ok(reloaded.view.context, 'the meter comes back with the chat');
    h.server.enqueue(textReply('After reload.'));
    await reloaded.controller.handle({ type: 'send', text: 'and now?' });
    await until(() => reloaded.view.of('assistant').some((a) => a.text === 'After reload.' && !a.streaming), 'the answer after the reload');
    assert.match(JSON.stringify(h.server.accepted.at(-1)?.body?.messages?.[0]), /conversation-summary/, 'the stored history is the compacted one');
  });

  it('a request the API refuses as too long is compacted by itself, shown as a divider, and the turn goes on', async () => {
    h = await startChatHarness({ server: { contextLimit: 9_000 } });
    writeFileSync(join(h.workspace, 'big.txt'), 'y'.repeat(60).concat('\n').repeat(150));
    h.server.enqueue(
      ...Array.from({ length: 12 }, (_, i) =>
        fnStep((request) => {
          if (isSummaryCall(request)) return textReply('Summary: read big.txt twice.');
          return i < 3 ? toolCall('read_file', { path: 'big.txt' }) : textReply('Read it all.');
        }),
      ),
    );
    await h.controller.handle({ type: 'send', text: 'read big.txt a few times' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Read it all.' && !a.streaming), 'the final answer', 30_000);
    h.server.clear();
    assert.equal(h.server.rejected.length, 1, 'one request was refused as too long');
    assert.equal(h.view.of('compaction')[0]?.reason, 'too_long');
    assert.deepEqual(h.view.of('error'), [], 'no error reached the person');
  });

  it('keeps chats across a reload, lists them in history and reopens an old one', async () => {
    h = await startChatHarness();
    h.server.enqueue(textReply('First chat answer.'));
    await h.controller.handle({ type: 'send', text: 'first chat' });
    await until(() => h.view.of('assistant')[0]?.streaming === false, 'first answer');
    const firstId = h.controller.activeChatId;
    await h.controller.handle({ type: 'newChat' });
    assert.notEqual(h.controller.activeChatId, firstId);
    assert.equal(h.activeChat.conversationId, h.controller.activeChatId);
    assert.deepEqual(h.view.items, []);
    h.server.enqueue(textReply('Second chat answer.'));
    await h.controller.handle({ type: 'send', text: 'second chat' });
    await until(() => h.view.of('assistant')[0]?.streaming === false, 'second answer');
    await h.store.flush();

    // A reloaded window: a new controller on the same storage opens the last chat with its usage.
    const reloaded = await h.reopen();
    await reloaded.controller.handle({ type: 'ready' });
    assert.deepEqual(reloaded.view.of('assistant').map((a) => a.text), ['Second chat answer.']);
    assert.equal(reloaded.view.usage?.outputTokens, 20);
    // History lists both (newest first); the harness's picker takes the oldest.
    await reloaded.controller.handle({ type: 'showHistory' });
    assert.deepEqual(h.ui.pickChat.at(-1), ['second chat', 'first chat']);
    assert.equal(reloaded.controller.activeChatId, firstId);
    assert.deepEqual(reloaded.view.of('assistant').map((a) => a.text), ['First chat answer.']);
    // And the reopened chat goes on with its own history.
    h.server.enqueue(textReply('Continued.'));
    await reloaded.controller.handle({ type: 'send', text: 'continue first' });
    await until(() => reloaded.view.of('assistant').some((a) => a.text === 'Continued.' && !a.streaming), 'the continued answer');
    assert.match(JSON.stringify(h.server.accepted.at(-1)?.body?.messages), /First chat answer/);
  });

  it('after a reload, a chat that is not the one shown still resumes when its task ends', async () => {
    h = await startChatHarness();
    h.server.enqueue(toolCall('background_run', { command: 'sleep 1.5; echo first-chat-task' }), textReply('Started in the first chat.'));
    await h.controller.handle({ type: 'send', text: 'first chat starts a task' });
    await until(() => h.view.of('assistant').some((a) => a.text === 'Started in the first chat.' && !a.streaming), 'the first answer');
    const firstId = h.controller.activeChatId;
    await h.controller.handle({ type: 'newChat' });
    await h.store.flush();
    // The window reloads: its controller goes, the task runs on (taken over), and the chat shown is the new one.
    h.controller.dispose();
    const before = h.server.requests.length;
    h.server.enqueue(textReply('The first chat saw its task end.'));
    const reloaded = await h.reopen();
    assert.notEqual(reloaded.controller.activeChatId, firstId);
    const requests = await h.server.waitForRequests(before + 1, 15_000);
    assert.match(JSON.stringify(requests[before]?.body?.messages), /first chat starts a task[^]*first-chat-task/);
    // The resumed answer is the first chat's, kept with it.
    let stored = '';
    for (let i = 0; i < 100 && !stored.includes('The first chat saw its task end.'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      await h.store.flush();
      stored = JSON.stringify(await h.store.load(firstId as string));
    }
    assert.match(stored, /The first chat saw its task end\./);
  });

  it('a chat saved mid-answer (window closed) reopens with nothing left running', async () => {
    h = await startChatHarness();
    h.server.enqueue(toolCall('bash', { command: 'sleep 30' }));
    await h.controller.handle({ type: 'send', text: 'interrupted by a reload' });
    await until(() => h.view.of('tool')[0]?.state === 'running', 'the tool to run');
    // What the store has while the turn runs is what a closing window leaves behind.
    await h.store.flush();
    const reloaded = await h.reopen();
    await reloaded.controller.handle({ type: 'ready' });
    assert.equal(reloaded.view.of('tool')[0]?.state, 'stopped');
    assert.equal(reloaded.view.busy, false);
    h.controller.stop();
  });

  it('reads settings live: a new model applies to the next message of the same chat, history kept', async () => {
    h = await startChatHarness();
    h.server.enqueue(textReply('From the first model.'), textReply('From the second model.'));
    await h.controller.handle({ type: 'send', text: 'one' });
    await until(() => h.view.of('assistant')[0]?.streaming === false, 'the first answer');
    h.model = 'claude-other';
    h.controller.onSettingsChanged();
    await h.controller.handle({ type: 'send', text: 'two' });
    await until(() => h.view.of('assistant')[1]?.streaming === false, 'the second answer');
    assert.equal(h.server.accepted[0].body?.model, 'claude-test');
    assert.equal(h.server.accepted[1].body?.model, 'claude-other');
    assert.match(JSON.stringify(h.server.accepted[1].body?.messages), /From the first model/);
  });

  it('forwards link clicks and copies only when the person asks', async () => {
    h = await startChatHarness();
    await h.controller.handle({ type: 'openLink', href: 'https://example.com' });
    await h.controller.handle({ type: 'copy', text: 'npm test' });
    assert.deepEqual(h.ui.openLink, ['https://example.com']);
    assert.deepEqual(h.ui.copy, ['npm test']);
  });
});

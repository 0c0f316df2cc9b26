// Long sessions (issue 12): the context window never ends a session. Old results are cleared before
// anything is compacted; a compaction keeps the person's requests, the task table and results the model
// has not seen; a request the API refuses as too long is compacted and sent again; task ids work after
// any number of compactions; Stop during a compaction leaves the history as it was. Real SDK, the
// scripted server with a context limit (it counts tokens and refuses like the real API), real tasks.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { buildCompactedHistory, chooseTailStart, personRequests, SUMMARY_INSTRUCTION } from '../../src/core/agent/context/compaction';
import { clearOldResults } from '../../src/core/agent/context/contextClearing';
import { parseTooLong, resolveContextWindow } from '../../src/core/agent/context/contextWindow';
import type { TaskSnapshot } from '../../src/core/tasks/types';
import { messagesOf, startAgentHarness, textOf, type AgentHarness } from '../support/agentHarness';
import { fnStep, stall, textReply, toolCall, validateMessagesRequest, type RecordedRequest, type Step } from '../support/scriptedServer';

/** A line-numbered file of about `kib` KiB, so a read_file result is large. */
function bigFile(dir: string, name: string, kib: number): void {
  const line = 'x'.repeat(60);
  writeFileSync(join(dir, name), Array.from({ length: Math.ceil((kib * 1024) / 61) }, (_, i) => `${i} ${line}`).join('\n'));
}

/** Is this request the keeper's summary call? */
const isSummaryCall = (request: RecordedRequest): boolean => textOf(messagesOf(request).at(-1)).includes('<compaction-request>');
const allText = (request: RecordedRequest | undefined): string => JSON.stringify(request?.body?.messages ?? []);

/**
 * A model that reads `big.txt` `reads` times, then says done; any summary call is answered with `summary`.
 * Every request goes through it, so the test does not need to know how many calls the keeper makes.
 */
function readingModel(reads: number, summary = 'SUMMARY: read big.txt several times; next: say done.', chatterChars = 0): Step[] {
  let done = 0;
  // Text the model says with each call: clearing cannot shorten it, so enough of it needs a compaction.
  const text = chatterChars > 0 ? `Thinking aloud: ${'the file has many lines. '.repeat(Math.ceil(chatterChars / 24))}` : undefined;
  return Array.from({ length: reads * 3 + 10 }, () =>
    fnStep((request) => {
      if (isSummaryCall(request)) return textReply(summary);
      return done++ < reads ? toolCall('read_file', { path: 'big.txt' }, undefined, { text }) : textReply('done');
    }),
  );
}

describe('context: the pure parts', () => {
  const use = (id: string, name: string, input: unknown): MessageParam => ({ role: 'assistant', content: [{ type: 'tool_use', id, name, input }] });
  const result = (id: string, content: string): MessageParam => ({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content }] });
  const big = 'line of output\n'.repeat(100);

  it('knows the window: the setting, else the model table, else 200k; reads both forms of the API refusal', () => {
    assert.equal(resolveContextWindow('claude-sonnet-4-5', 0), 200_000);
    assert.equal(resolveContextWindow('claude-sonnet-4-5', 30_000), 30_000);
    assert.equal(resolveContextWindow('some-other-model', undefined), 200_000);
    assert.deepEqual(parseTooLong('The API answered 400: prompt is too long: 215000 tokens > 200000 maximum.'), { tokens: 215000, window: 200000 });
    assert.deepEqual(parseTooLong('input length and `max_tokens` exceed context limit: 190000 + 20000 > 200000, decrease input length'), { tokens: 190000, window: 200000 });
    assert.equal(parseTooLong('messages: roles must alternate'), undefined);
  });

  it('clearing replaces the oldest results with notes that say how to get them again, keeps the newest, mutates nothing', () => {
    const history: MessageParam[] = [
      { role: 'user', content: 'please look' },
      use('a', 'read_file', { path: 'src/app.ts', offset: 10 }),
      result('a', big),
      use('b', 'bash', { command: 'npm test' }),
      result('b', `Exit code 1 (2.0s, task k3j4h5g6).\n${big}`),
      use('c', 'check_background', { task_id: 'zz11yy22', offset: 4096 }),
      result('c', `Task zz11yy22: running\n${big}`),
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
      { role: 'user', content: [{ type: 'text', text: `<background-results>\npreamble\n\n[bg:q1w2e3r4] failed (exit code 2) after 3s\ncommand: make\noutput:\n${big}</background-results>` }] },
      use('d', 'read_file', { path: 'newest.ts' }),
      result('d', big),
    ];
    const before = JSON.stringify(history);
    const out = clearOldResults(history, 10, Infinity);
    assert.equal(JSON.stringify(history), before, 'the history handed in is not changed');
    assert.equal(out.cleared, 4);
    const text = JSON.stringify(out.messages);
    assert.match(text, /Cleared to save context: read_file of src\/app\.ts \(offset 10/);
    assert.match(text, /bash `npm test`.*check_background with task_id \\"k3j4h5g6\\" and offset 0/);
    assert.match(text, /check_background of task zz11yy22.*task_id \\"zz11yy22\\" and offset 4096/);
    assert.match(text, /\[bg:q1w2e3r4\] failed \(exit code 2\) after 3s/, 'a results block keeps its entries\' first lines');
    assert.ok(!text.slice(0, text.indexOf('newest.ts')).includes('line of output'), 'every old output is gone');
    assert.equal((out.messages[10].content as Array<{ content: string }>)[0].content, big, 'the protected newest result is whole');
    assert.equal(validateMessagesRequest({ model: 'm', max_tokens: 10, messages: out.messages as never }), undefined);
    const some = clearOldResults(history, 10, 10);
    assert.equal(some.cleared, 1, 'only as much as needed, oldest first');
  });

  it('a compacted history is valid, keeps every request verbatim (also through a second compaction) and lists every task', () => {
    const history: MessageParam[] = [
      { role: 'user', content: 'first request: build it' },
      use('a', 'read_file', { path: 'x' }),
      result('a', big),
      { role: 'assistant', content: [{ type: 'text', text: 'built' }] },
      { role: 'user', content: [{ type: 'text', text: 'second request | with a pipe' }] },
      use('b', 'bash', { command: 'ls' }),
      result('b', 'a\nb'),
    ];
    const task = (id: string, status: TaskSnapshot['status'], command: string): TaskSnapshot =>
      ({ id, status, command, exitCode: status === 'completed' ? 0 : null, signal: null, startedAt: Date.now() - 1000, origin: { kind: 'agent', conversationId: 'c' } }) as unknown as TaskSnapshot;
    const start = chooseTailStart(history, 10);
    assert.equal(start, 5, 'at least the last exchange stays');
    const first = buildCompactedHistory({ summary: 'S1', summarised: true, requests: personRequests(history), tasks: [task('run11111', 'running', 'npm run dev'), task('done2222', 'completed', 'make')], tail: history.slice(start), requestBudgetTokens: 1000 });
    assert.equal(validateMessagesRequest({ model: 'm', max_tokens: 10, messages: first as never }), undefined);
    const head = textOf(first[0]);
    assert.match(head, /S1/);
    assert.match(head, /first request: build it/);
    assert.match(head, /second request \| with a pipe/);
    assert.match(head, /run11111 \| running \| {2}\| npm run dev/);
    assert.match(head, /done2222 \| completed \| 0 \| make/);
    const again = [...first, { role: 'assistant', content: [{ type: 'text', text: 'more' }] } as MessageParam, { role: 'user', content: 'third' } as MessageParam];
    assert.deepEqual(personRequests(again), ['first request: build it', 'second request | with a pipe', 'third']);
    assert.ok(SUMMARY_INSTRUCTION.includes('Do not call any tool'));
  });
});

describe('context: a session under a small window', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('clears old read results before it would compact, and every request fits', async () => {
    h = await startAgentHarness({ session: { contextWindow: 24_000 }, server: { contextLimit: 24_000 } });
    bigFile(h.workspace, 'big.txt', 10);
    h.server.enqueue(...readingModel(8));
    await h.session.send('read big.txt eight times');
    const requests = h.server.requests;
    assert.deepEqual(h.server.rejected.map((r) => r.rejected), []);
    assert.equal(requests.filter(isSummaryCall).length, 0, 'no compaction was needed');
    assert.ok(h.eventsOf('context_cleared').length >= 1);
    const last = requests.at(-1);
    assert.match(allText(last), /Cleared to save context: read_file of big\.txt/);
    assert.ok(Math.max(...requests.map((r) => r.tokens ?? 0)) <= 24_000 - 1024);
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
  });

  it('compacts when clearing is not enough: the summary, the requests verbatim, the task table; the next call is valid', async () => {
    h = await startAgentHarness({ session: { contextWindow: 12_000 }, server: { contextLimit: 12_000 } });
    bigFile(h.workspace, 'big.txt', 6);
    const harness = h;
    harness.server.enqueue(toolCall('background_run', { command: 'sleep 30', description: 'a long sleeper' }), ...readingModel(8, 'SUMMARY-ONE', 4000));
    const request = 'Please read big.txt a few times. Keep this request: ünïcode and "quotes".';
    await harness.session.send(request);
    assert.deepEqual(harness.server.rejected.map((r) => r.rejected), []);
    const summaryAt = harness.server.requests.findIndex(isSummaryCall);
    assert.ok(summaryAt > 0, 'a summary call was made');
    const after = harness.server.requests[summaryAt + 1];
    const head = textOf(messagesOf(after)[0]);
    assert.match(head, /SUMMARY-ONE/);
    assert.ok(head.includes(request), 'the person\'s request is kept verbatim');
    const sleeper = harness.manager.list().find((t) => t.command === 'sleep 30');
    assert.ok(sleeper);
    assert.match(head, new RegExp(`${sleeper.id} \\| running \\|  \\| sleep 30 \\| a long sleeper`));
    const end = harness.eventsOf('compaction_end')[0];
    assert.equal(end.outcome, 'compacted');
    assert.equal(end.summary, 'SUMMARY-ONE');
    assert.ok(end.afterTokens < end.beforeTokens);
    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
  });

  it('a request the API refuses as too long is compacted and sent again (the session believed it had 200k)', async () => {
    h = await startAgentHarness({ server: { contextLimit: 12_000 } });
    bigFile(h.workspace, 'big.txt', 8);
    h.server.enqueue(...readingModel(4, 'SUMMARY-AFTER-400'));
    await h.session.send('read it');
    const rejected = h.server.rejected;
    assert.equal(rejected.length, 1, rejected.map((r) => r.rejected).join('\n'));
    assert.ok(rejected[0].tooLong);
    const after = h.server.requests.slice(rejected[0].index + 1);
    assert.ok(isSummaryCall(after[0]), 'the refusal is followed by a summary call');
    assert.match(textOf(messagesOf(after[1])[0]), /SUMMARY-AFTER-400/, 'and then the same step again, compacted');
    assert.deepEqual(h.eventsOf('error'), []);
    assert.equal(h.eventsOf('compaction_end')[0].reason, 'too_long');
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
  });

  it('a task started before two compactions is cancelled by its id after them; queued results survive a compaction', async () => {
    h = await startAgentHarness({ session: { autoResume: false } });
    const harness = h;
    const quickCommand = 'while [ ! -f gate ]; do sleep 0.02; done; echo quick-result';
    harness.server.enqueue(
      toolCall('background_run', { command: 'sleep 60' }),
      toolCall('background_run', { command: quickCommand }),
      textReply('started two'),
    );
    await harness.session.send('start them');
    const [sleeper, quick] = ['sleep 60', quickCommand].map((c) => harness.manager.list().find((t) => t.command === c)!);
    // It ends once the turn is over: its result waits in the queue (auto-resume is off) through the compaction.
    writeFileSync(join(harness.workspace, 'gate'), '');
    await harness.manager.waitForEnd(quick.id);
    assert.equal(harness.manager.notifications.pendingCount(harness.session.conversationId), 1);
    harness.server.enqueue(textReply('SUMMARY-1'));
    await harness.session.compact();
    harness.server.enqueue(fnStep((request) => (isSummaryCall(request) ? textReply('unexpected') : textReply('noted'))));
    await harness.session.send('anything new?');
    harness.server.enqueue(textReply('SUMMARY-2'));
    await harness.session.compact();
    assert.equal(harness.eventsOf('compaction_end').filter((e) => e.outcome === 'compacted').length, 2);
    const delivered = harness.server.requests.find((r) => !isSummaryCall(r) && allText(r).includes('quick-result'));
    assert.ok(delivered, 'the result queued before the first compaction was delivered after it');
    harness.server.enqueue(
      fnStep((request) => {
        const table = textOf(messagesOf(request)[0]);
        assert.match(table, new RegExp(`${sleeper.id} \\| running`), 'the task table names the task after two compactions');
        return toolCall('cancel_background', { task_id: sleeper.id });
      }),
      textReply('cancelled it'),
    );
    await harness.session.send('cancel the sleeper');
    assert.equal(harness.manager.get(sleeper.id)?.status, 'cancelled');
    const cancelResult = harness.eventsOf('tool_end').find((e) => e.name === 'cancel_background');
    assert.equal(cancelResult?.isError, false, cancelResult?.result);
    assert.deepEqual(harness.server.rejected, []);
  });

  it('Stop during a compaction leaves the history as it was', async () => {
    h = await startAgentHarness();
    const harness = h;
    harness.server.enqueue(textReply('hello'));
    await harness.session.send('hi');
    const before = JSON.stringify(harness.session.history);
    harness.server.enqueue(stall());
    const compacting = harness.session.compact();
    await harness.server.waitForRequests(2);
    harness.session.stop();
    await compacting;
    assert.equal(harness.eventsOf('compaction_end')[0].outcome, 'aborted');
    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'aborted');
    assert.equal(JSON.stringify(harness.session.history), before);
  });

  it('Compact with nothing to summarise says so and changes nothing', async () => {
    h = await startAgentHarness();
    await h.session.compact();
    assert.equal(h.eventsOf('compaction_end')[0].outcome, 'skipped');
    assert.equal(h.server.requests.length, 0);
  });
});

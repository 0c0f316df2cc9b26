// The loop's pure parts on their own: history repair and injection, cache marking, retry timing, and
// the session's bookkeeping (one turn at a time, dispose). Every history built here is also checked
// with the scripted server's validator, the same rules the API applies.
import type { ContentBlock, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { parseRetryAfter } from '../../src/core/agent/apiErrors';
import { applyPromptCaching } from '../../src/core/agent/cache';
import { isInjected } from '../../src/core/agent/context/compaction';
import { Conversation, INTERRUPTED_RESULT } from '../../src/core/agent/conversation';
import { DEFAULT_RETRY, retryDelayMs } from '../../src/core/agent/retryPolicy';
import { startAgentHarness, textOf, type AgentHarness } from '../support/agentHarness';
import { countCacheBreakpoints, heldReply, textReply, validateMessagesRequest, type MessagesBody } from '../support/scriptedServer';

const valid = (messages: readonly MessageParam[]): string | undefined =>
  validateMessagesRequest({ model: 'm', max_tokens: 5, messages: messages as MessagesBody['messages'] });

const toolUse = (id: string): ContentBlock => ({ type: 'tool_use', id, name: 'bash', input: { command: 'x' }, caller: { type: 'direct' } }) as ContentBlock;
const text = (t: string): ContentBlock => ({ type: 'text', text: t, citations: null }) as ContentBlock;

describe('Conversation', () => {
  it('puts injected text after the tool results of a trailing user message', () => {
    const c = new Conversation();
    c.addUserText('go');
    c.addAssistant([text('ok'), toolUse('t1')]);
    c.addToolResults([{ type: 'tool_result', tool_use_id: 't1', content: 'done' }]);
    c.addUserText('<background-results>…</background-results>');
    const last = c.history.at(-1);
    assert.deepEqual(
      Array.isArray(last?.content) && last.content.map((b) => b.type),
      ['tool_result', 'text'],
    );
    assert.equal(valid(c.history), undefined);
  });

  it('starts a user message after an assistant one, and merges into a trailing string message', () => {
    const c = new Conversation([{ role: 'user', content: 'first' }]);
    c.addUserText('second');
    assert.equal(c.length, 1);
    assert.equal(textOf(c.history[0]), 'first\nsecond');
    c.addAssistant([text('answer')]);
    c.addUserText('third');
    assert.deepEqual(c.history.map((m) => m.role), ['user', 'assistant', 'user']);
    assert.equal(valid(c.history), undefined);
  });

  it('drops empty text blocks and an all-empty assistant message', () => {
    const c = new Conversation([{ role: 'user', content: 'q' }]);
    assert.deepEqual(c.addAssistant([text('')]), []);
    assert.equal(c.length, 1);
    c.addPartialAssistantText('   ');
    assert.equal(c.length, 1);
  });

  it('drops a blank text block the model sent before a tool call (the API refuses it sent back alone)', () => {
    const c = new Conversation([{ role: 'user', content: 'q' }]);
    c.addAssistant([text('\n\n'), toolUse('t1')]);
    assert.deepEqual(Array.isArray(c.history[1].content) && c.history[1].content.map((b) => b.type), ['tool_use']);
    c.addToolResults([{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }]);
    assert.deepEqual(c.addAssistant([text(' \n')]), []);
    assert.equal(c.length, 3, 'an all-blank answer adds no message');
    assert.equal(valid(c.history), undefined);
    assert.match(valid([{ role: 'user', content: 'q' }, { role: 'assistant', content: [{ type: 'text', text: '\n\n' }] }, { role: 'user', content: 'r' }]) ?? '', /non-whitespace/);
  });

  it('repairs unanswered tool calls anywhere, without mutating the messages it was given', () => {
    const given: MessageParam[] = [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'bash', input: {} }, { type: 'tool_use', id: 't2', name: 'bash', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }, { type: 'text', text: 'and then?' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't3', name: 'bash', input: {} }] },
    ];
    const snapshot = JSON.stringify(given);
    assert.match(valid(given) ?? '', /t2/);
    const c = new Conversation(given);
    assert.equal(valid(c.history), undefined);
    assert.equal(JSON.stringify(given), snapshot);
    const third = c.history[2];
    assert.deepEqual(
      Array.isArray(third.content) && third.content.map((b) => (b.type === 'tool_result' ? `${b.tool_use_id}:${b.is_error ?? false}` : b.type)),
      ['t1:false', 't2:true', 'text'],
    );
    const last = c.history.at(-1);
    assert.ok(Array.isArray(last?.content) && last.content[0].type === 'tool_result' && last.content[0].content === INTERRUPTED_RESULT);
  });
});

describe('Conversation.rewindBefore (edit and resend)', () => {
  const results = (id: string): string => `<background-results>\n[bg:${id}] completed (exit 0)\n</background-results>`;

  it('drops the person\'s last request and what followed, keeping tool results that shared its message', () => {
    const c = new Conversation();
    c.addUserText('first');
    c.addAssistant([text('ok'), toolUse('t1')]);
    c.addToolResults([{ type: 'tool_result', tool_use_id: 't1', content: 'done' }]);
    // The person's next words join the trailing tool results (a turn stopped mid-tool).
    c.addUserText('second, with a typo');
    c.addAssistant([text('answer to the typo'), toolUse('t2')]);
    c.addToolResults([{ type: 'tool_result', tool_use_id: 't2', content: 'more' }]);
    c.addAssistant([text('done with the typo')]);
    assert.equal(c.rewindBefore('second, with a typo', isInjected), true);
    assert.deepEqual(
      c.history.map((m) => (Array.isArray(m.content) ? m.content.map((b) => b.type).join('+') : 'string')),
      ['text', 'text+tool_use', 'tool_result'],
    );
    c.addUserText('second, fixed');
    assert.equal(valid(c.history), undefined);
    assert.doesNotMatch(JSON.stringify(c.history), /typo/);
  });

  it('keeps background results delivered with or after the request: they were taken off the queue once', () => {
    const c = new Conversation();
    c.addUserText('build it');
    c.addUserText(results('aaaa1111'));
    c.addAssistant([text('building')]);
    c.addUserText(results('bbbb2222'));
    c.addAssistant([text('both done')]);
    assert.equal(c.rewindBefore('build it', isInjected), true);
    c.addUserText('build it twice');
    const sent = JSON.stringify(c.history);
    assert.match(sent, /aaaa1111/);
    assert.match(sent, /bbbb2222/);
    assert.doesNotMatch(sent, /building|both done/);
    assert.equal(valid(c.history), undefined);
    assert.equal(c.history.length, 1, 'one user message: the results, then the new request');
  });

  it('takes only the last request: an older one with the same text, or a text that is not the last, changes nothing', () => {
    const c = new Conversation();
    c.addUserText('same');
    c.addAssistant([text('one')]);
    c.addUserText('later');
    c.addAssistant([text('two')]);
    const before = JSON.stringify(c.history);
    const revision = c.revision;
    assert.equal(c.rewindBefore('same', isInjected), false, 'not the last request');
    assert.equal(c.rewindBefore('never said', isInjected), false);
    assert.equal(JSON.stringify(c.history), before);
    assert.equal(c.revision, revision, 'nothing rewritten, so the size estimate still holds');
    assert.equal(c.rewindBefore('later', isInjected), true);
    assert.deepEqual(c.history.map((m) => (Array.isArray(m.content) ? (m.content[0] as { text: string }).text : m.content)), ['same', 'one']);
  });
});

describe('applyPromptCaching', () => {
  const tools = [
    { name: 'a', input_schema: { type: 'object' as const } },
    { name: 'b', input_schema: { type: 'object' as const } },
  ];
  it('uses 4 breakpoints: last tool, system, and the two latest user turns', () => {
    const messages: MessageParam[] = [
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'r1' },
      { role: 'user', content: 'two' },
      { role: 'assistant', content: 'r2' },
      { role: 'user', content: [{ type: 'text', text: 'three' }] },
    ];
    const out = applyPromptCaching('system', tools, messages);
    const body = { tools: out.tools, system: out.system, messages: out.messages } as unknown as MessagesBody;
    assert.equal(countCacheBreakpoints(body), 4);
    assert.equal(textOf(out.messages[0]), 'one');
    assert.ok(!JSON.stringify(out.messages[0]).includes('cache_control'), 'the oldest turn is not marked');
    assert.ok(JSON.stringify(out.messages[2]).includes('cache_control'));
    assert.ok(JSON.stringify(out.messages[4]).includes('cache_control'));
    assert.ok(!JSON.stringify(messages).includes('cache_control'), 'the input is untouched');
  });

  it('gives the unused tool and system budget to earlier turns', () => {
    const messages: MessageParam[] = [
      { role: 'user', content: 'one' },
      { role: 'assistant', content: 'r1' },
      { role: 'user', content: 'two' },
    ];
    const out = applyPromptCaching('', [], messages);
    assert.deepEqual(out.system, []);
    assert.equal(countCacheBreakpoints(out as unknown as MessagesBody), 2);
  });
});

describe('retry timing', () => {
  it('honours retry-after-ms, retry-after in seconds and as a date', () => {
    assert.equal(parseRetryAfter(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' })), 250);
    assert.equal(parseRetryAfter(new Headers({ 'retry-after': '2' })), 2000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:03 GMT' }), now), 3000);
    assert.equal(parseRetryAfter(new Headers({})), undefined);
  });

  it('backs off exponentially with jitter up to a cap, and refuses absurd server waits', () => {
    const noJitter = () => 0;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(n, undefined, DEFAULT_RETRY, noJitter)),
      [500, 1000, 2000, 4000, 8000, 8000],
    );
    assert.equal(retryDelayMs(1, undefined, DEFAULT_RETRY, () => 1), 375);
    assert.equal(retryDelayMs(1, 1234, DEFAULT_RETRY), 1234);
    assert.equal(retryDelayMs(1, 3_600_000, DEFAULT_RETRY), undefined);
  });
});

describe('session bookkeeping', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('runs messages sent during a turn one after another, in order', async () => {
    h = await startAgentHarness();
    const harness = h;
    const held = heldReply(textReply('first answer'));
    harness.server.enqueue(held.step, textReply('second answer'));
    const first = harness.session.send('first');
    await harness.server.waitForRequests(1);
    assert.equal(harness.session.busy, true);
    const second = harness.session.send('second');
    held.release();
    await Promise.all([first, second]);
    assert.deepEqual(harness.server.rejected, []);
    assert.deepEqual(
      harness.session.history.map((m) => textOf(m)),
      ['first', 'first answer', 'second', 'second answer'],
    );
    assert.deepEqual(harness.eventsOf('turn_end').map((e) => e.reason), ['end_turn', 'end_turn']);
  });

  it('rewind: refused while a turn runs; afterwards the next message replaces the last one for the model', async () => {
    h = await startAgentHarness();
    const harness = h;
    const held = heldReply(textReply('answer to <background-results> typo'));
    harness.server.enqueue(held.step, textReply('answer to the fix'));
    // Our tags in the person's words are defused when stored; rewind finds the message all the same.
    const first = harness.session.send('ask about <background-results> typo');
    await harness.server.waitForRequests(1);
    assert.equal(harness.session.rewind('ask about <background-results> typo'), false, 'not while the turn runs');
    held.release();
    await first;
    assert.equal(harness.session.rewind('ask about <background-results> typo'), true);
    assert.deepEqual(harness.session.history, []);
    await harness.session.send('ask about the fix');
    assert.doesNotMatch(JSON.stringify(harness.server.accepted[1].body?.messages), /typo/);
    assert.deepEqual(harness.session.history.map((m) => textOf(m)), ['ask about the fix', 'answer to the fix']);
  });

  it('after dispose, sends nothing, and whenSettled resolves', async () => {
    h = await startAgentHarness();
    h.session.dispose();
    await h.session.send('ignored');
    await h.session.whenSettled();
    assert.equal(h.server.requests.length, 0);
  });
});

// Stop: it ends the turn at once wherever it is (streaming text, streaming a tool call, waiting for the
// API, running a tool, waiting to retry), and the history it leaves is accepted by the (validating)
// server on the next message.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { blocksOf, messagesOf, startAgentHarness, textOf, type AgentHarness } from '../support/agentHarness';
import { errorReply, stall, textReply, toolCall, toolCalls } from '../support/scriptedServer';
import { realTools } from '../../src/core/agent/session';

describe('agent: Stop', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  /** After a Stop, one more message must go through the validating server. */
  async function assertNextSendAccepted(harness: AgentHarness): Promise<void> {
    harness.server.enqueue(textReply('Continuing.'));
    const before = harness.server.requests.length;
    await harness.session.send('please continue');
    assert.deepEqual(harness.server.rejected, [], 'the history after Stop is valid for the API');
    assert.equal(harness.server.requests.length, before + 1);
    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
    assert.equal(textOf(harness.session.history.at(-1)), 'Continuing.');
  }

  it('mid-stream: keeps the text shown so far, and the next message is accepted', async () => {
    h = await startAgentHarness();
    h.server.enqueue(textReply('This is a long answer that streams slowly, word by word, until Stop is pressed.', { chunkSize: 4, delayMs: 15 }));
    const harness = h;
    const sending = harness.session.send('explain');
    await harness.nextEvent('text_delta');
    harness.session.stop();
    await sending;

    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'aborted');
    assert.equal(harness.session.busy, false);
    const shown = harness.eventsOf('text_delta').map((e) => e.text).join('');
    assert.ok(shown.length > 0 && shown.length < 60, `only part of the answer was shown: ${JSON.stringify(shown)}`);
    const history = harness.session.history;
    assert.equal(history.length, 2);
    assert.equal(history[1].role, 'assistant');
    assert.equal(textOf(history[1]), shown.trimEnd());
    await assertNextSendAccepted(harness);
    const messages = messagesOf(harness.server.requests[1]);
    assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'user']);
  });

  it('while a tool call is streaming: the half-received tool_use is not kept', async () => {
    h = await startAgentHarness();
    const harness = h;
    harness.server.enqueue(toolCall('bash', { command: 'echo ' + 'x'.repeat(200) }, 'toolu_half', { text: 'Running it.', delayMs: 10, jsonChunkSize: 2 }));
    const sending = harness.session.send('run');
    await harness.nextEvent('text_delta');
    // The text is one delta; the ~110 input_json_delta events of the tool call follow, 10 ms apart (over a second).
    setTimeout(() => harness.session.stop(), 80);
    await sending;

    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'aborted');
    assert.equal(harness.eventsOf('tool_start').length, 0, 'the tool never ran');
    assert.doesNotMatch(JSON.stringify(harness.session.history), /tool_use/);
    await assertNextSendAccepted(harness);
  });

  it('mid-tool (real bash): answers the call as interrupted and kills the command', async () => {
    h = await startAgentHarness();
    const harness = h;
    harness.server.enqueue(toolCall('bash', { command: 'sleep 30' }, 'toolu_sleep'));
    // Stop once the command really runs (tool_start comes just before the tool spawns it).
    const started = new Promise<void>((resolve) => {
      const sub = harness.manager.onEvent((e) => {
        if (e.type === 'started') {
          sub.dispose();
          resolve();
        }
      });
    });
    const sending = harness.session.send('sleep');
    await started;
    harness.session.stop();
    await sending;

    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'aborted');
    assert.deepEqual(harness.eventsOf('tool_end'), [{ type: 'tool_end', toolUseId: 'toolu_sleep', name: 'bash', result: 'Interrupted by the user', isError: true }]);
    const last = harness.session.history.at(-1);
    assert.equal(last?.role, 'user');
    assert.deepEqual(blocksOf(last), [{ type: 'tool_result', tool_use_id: 'toolu_sleep', content: 'Interrupted by the user', is_error: true }]);
    const task = harness.manager.list()[0];
    const final = await harness.manager.waitForEnd(task.id);
    assert.equal(final.status, 'cancelled', 'Stop killed the foreground command');

    await assertNextSendAccepted(harness);
    const lastSent = messagesOf(harness.server.requests[1]).at(-1);
    assert.deepEqual(
      blocksOf(lastSent).map((b) => b.type),
      ['tool_result', 'text'],
      'the new message follows the tool result in the same user message',
    );
  });

  it('mid-tool (a tool that ignores the signal): returns at once and answers every pending call', async () => {
    let started = 0;
    h = await startAgentHarness({
      deps: {
        tools: {
          definitions: realTools.definitions,
          // Never settles: Stop must not wait for it.
          execute: () => {
            started++;
            return new Promise(() => undefined);
          },
        },
      },
    });
    const harness = h;
    harness.server.enqueue(
      toolCalls([
        { name: 'bash', input: { command: 'a' }, id: 'toolu_1' },
        { name: 'bash', input: { command: 'b' }, id: 'toolu_2' },
      ]),
    );
    const sending = harness.session.send('two calls');
    await harness.nextEvent('tool_start');
    harness.session.stop();
    await sending;

    assert.equal(started, 1, 'the second call never started');
    const results = blocksOf(harness.session.history.at(-1));
    assert.deepEqual(
      results.map((b) => [b.tool_use_id, b.content, b.is_error]),
      [
        ['toolu_1', 'Interrupted by the user', true],
        ['toolu_2', 'Interrupted by the user', true],
      ],
    );
    await assertNextSendAccepted(harness);
  });

  it('while waiting for the API to answer', async () => {
    h = await startAgentHarness();
    const harness = h;
    harness.server.enqueue(stall());
    const sending = harness.session.send('hello?');
    await harness.server.waitForRequests(1);
    await harness.nextEvent('request_start');
    harness.session.stop();
    await sending;
    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'aborted');
    assert.equal(harness.eventsOf('error').length, 0, 'a Stop is not an error');
    await assertNextSendAccepted(harness);
    // The unanswered first message and the new one became one user message.
    assert.deepEqual(blocksOf(messagesOf(harness.server.requests[1])[0]).map((b) => b.text), ['hello?', 'please continue']);
  });

  it('while waiting to retry', async () => {
    h = await startAgentHarness();
    const harness = h;
    harness.server.enqueue(errorReply(529, { retryAfterS: 30 }));
    const sending = harness.session.send('hi');
    const retry = await harness.nextEvent('retry');
    assert.equal(retry.delayMs, 30_000);
    harness.session.stop();
    await sending;
    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'aborted');
    await assertNextSendAccepted(harness);
  });
});

// The loop itself: streaming, real tools (and bad tool input), the turn limit, usage totals and prompt
// caching, all through the real SDK against the validating scripted server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { blocksOf, messagesOf, startAgentHarness, textOf, type AgentHarness } from '../support/agentHarness';
import { countCacheBreakpoints, reply, startScriptedServer, textReply, toolCall } from '../support/scriptedServer';

describe('agent: the loop', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('streams the answer as text_delta events and keeps it in the history', async () => {
    h = await startAgentHarness();
    const answer = 'Here is a longer answer, streamed in small pieces. '.repeat(4);
    h.server.enqueue(textReply(answer, { chunkSize: 6 }));
    await h.session.send('hello');
    const deltas = h.eventsOf('text_delta');
    assert.ok(deltas.length > 20);
    assert.equal(deltas.map((d) => d.text).join(''), answer);
    assert.deepEqual(
      h.events.filter((e) => e.type !== 'text_delta').map((e) => e.type),
      ['turn_start', 'request_start', 'usage', 'context', 'turn_end'],
    );
    assert.equal(textOf(h.session.history[1]), answer);
    const request = h.server.requests[0].body;
    assert.equal(request?.model, 'claude-test');
    assert.equal(request?.max_tokens, 1024);
    assert.equal(request?.stream, true);
    assert.deepEqual(
      (request?.tools ?? []).map((t) => t.name),
      ['bash', 'read_file', 'write_file', 'edit_file', 'background_run', 'check_background', 'cancel_background'],
    );
  });

  it('runs real tools, answers bad input and unknown tools with is_error, and keeps going', async () => {
    h = await startAgentHarness();
    h.server.enqueue(
      toolCall('write_file', { path: 'notes.txt', content: 'hello from the agent\n' }, 'toolu_w'),
      toolCall('bash', { command: 'cat notes.txt' }, 'toolu_cat'),
      toolCall('bash', { timeout_s: 'soon' }, 'toolu_bad'),
      toolCall('launch_rockets', { count: 3 }, 'toolu_unknown'),
      reply([{ type: 'tool_use', id: 'toolu_null', name: 'read_file', input: null }]),
      textReply('Done.'),
    );
    await h.session.send('write a note');
    assert.deepEqual(h.server.rejected, []);
    assert.equal(h.server.requests.length, 6);
    assert.equal(readFileSync(join(h.workspace, 'notes.txt'), 'utf8'), 'hello from the agent\n');
    const ends = h.eventsOf('tool_end');
    assert.deepEqual(
      ends.map((e) => [e.toolUseId, e.isError]),
      [
        ['toolu_w', false],
        ['toolu_cat', false],
        ['toolu_bad', true],
        ['toolu_unknown', true],
        ['toolu_null', true],
      ],
    );
    assert.match(ends[1].result, /hello from the agent/);
    assert.match(ends[2].result, /command/);
    assert.match(ends[3].result, /Unknown tool "launch_rockets"/);
    // What the model got back is what the UI saw (the latest user turn carries the rolling cache breakpoint).
    const results = blocksOf(messagesOf(h.server.requests[4]).at(-1));
    assert.deepEqual(results, [{ type: 'tool_result', tool_use_id: 'toolu_unknown', content: ends[3].result, is_error: true, cache_control: { type: 'ephemeral' } }]);
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
  });

  it('stops at the turn limit with a max_turns error, and the next message is accepted', async () => {
    h = await startAgentHarness({ session: { maxTurns: 2 } });
    h.server.enqueue(toolCall('bash', { command: 'echo 1' }), toolCall('bash', { command: 'echo 2' }));
    await h.session.send('loop forever');
    assert.equal(h.server.requests.length, 2);
    const [error] = h.eventsOf('error');
    assert.equal(error.kind, 'max_turns');
    assert.match(error.message, /2 model requests/);
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'max_turns');

    h.server.enqueue(textReply('ok, stopping'));
    await h.session.send('stop there');
    assert.deepEqual(h.server.rejected, []);
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
  });

  it('answers a tool call cut by max_tokens', async () => {
    h = await startAgentHarness();
    h.server.enqueue(reply([{ type: 'tool_use', id: 'toolu_cut', name: 'write_file', input: { path: 'x.txt' } }], { stopReason: 'max_tokens' }), textReply('I ran out of room.'));
    await h.session.send('write a big file');
    assert.deepEqual(h.server.rejected, []);
    assert.equal(h.eventsOf('tool_end')[0].isError, true);
  });

  it('reports usage per request and in total, cache figures included', async () => {
    h = await startAgentHarness();
    h.server.enqueue(
      toolCall('bash', { command: 'true' }, undefined, { usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 1000, cache_read_input_tokens: 0 } }),
      textReply('done', { usage: { input_tokens: 20, output_tokens: 7, cache_creation_input_tokens: 30, cache_read_input_tokens: 1000 } }),
    );
    await h.session.send('go');
    const usage = h.eventsOf('usage');
    assert.deepEqual(usage[0].request, { inputTokens: 10, outputTokens: 5, cacheCreationTokens: 1000, cacheReadTokens: 0 });
    assert.deepEqual(usage[1].request, { inputTokens: 20, outputTokens: 7, cacheCreationTokens: 30, cacheReadTokens: 1000 });
    const expected = { inputTokens: 30, outputTokens: 12, cacheCreationTokens: 1030, cacheReadTokens: 1000 };
    assert.deepEqual(usage[1].total, expected);
    assert.deepEqual(h.session.totalUsage, expected);
  });

  it('marks tools, system and the two latest user turns for caching, never more than 4, without touching the history', async () => {
    h = await startAgentHarness();
    h.server.enqueue(toolCall('bash', { command: 'echo a' }), toolCall('bash', { command: 'echo b' }), textReply('first done'));
    await h.session.send('first');
    h.server.enqueue(textReply('second done'));
    await h.session.send('second');
    assert.deepEqual(h.server.rejected, []);

    for (const request of h.server.requests) {
      const body = request.body;
      assert.ok(body);
      assert.ok(countCacheBreakpoints(body) <= 4);
      const tools = body.tools ?? [];
      assert.ok(tools.at(-1)?.cache_control, 'last tool is a breakpoint');
      assert.ok(tools.slice(0, -1).every((t) => !t.cache_control));
      assert.ok(Array.isArray(body.system) && body.system.at(-1)?.cache_control, 'system is a breakpoint');
    }
    const last = h.server.requests.at(-1)?.body;
    assert.ok(last);
    assert.equal(countCacheBreakpoints(last), 4);
    const messages = last.messages ?? [];
    const marked = messages.flatMap((m, i) => blocksOf(m).map((b, j) => (b.cache_control ? `${i}.${j}:${m.role}` : ''))).filter(Boolean);
    const userIndexes = messages.map((m, i) => (m.role === 'user' ? i : -1)).filter((i) => i >= 0);
    const lastTwo = userIndexes.slice(-2).map((i) => `${i}.${blocksOf(messages[i]).length - 1}:user`);
    assert.deepEqual(marked, lastTwo, 'the last block of each of the two latest user messages');
    assert.doesNotMatch(JSON.stringify(h.session.history), /cache_control/);
  });

  it('repairs a restored history with an unanswered tool call before using it', async () => {
    h = await startAgentHarness({
      session: {
        history: [
          { role: 'user', content: 'run it' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_lost', name: 'bash', input: { command: 'make' } }] },
        ],
      },
    });
    h.server.enqueue(textReply('The window closed while that ran.'));
    await h.session.send('what happened?');
    assert.deepEqual(h.server.rejected, []);
    const lastSent = blocksOf(messagesOf(h.server.requests[0]).at(-1));
    assert.deepEqual(
      lastSent.map((b) => b.type),
      ['tool_result', 'text'],
    );
    assert.equal(lastSent[0].is_error, true);
  });

  it('without a baseURL option, follows ANTHROPIC_BASE_URL (how code-server and the CLI reach the scripted server)', async () => {
    const viaEnv = await startScriptedServer();
    const saved = process.env.ANTHROPIC_BASE_URL;
    process.env.ANTHROPIC_BASE_URL = viaEnv.url;
    try {
      h = await startAgentHarness({ session: { baseURL: undefined } });
      viaEnv.enqueue(textReply('reached through the environment'));
      await h.session.send('hi');
      assert.equal(viaEnv.requests.length, 1);
      assert.equal(h.server.requests.length, 0);
      assert.equal(textOf(h.session.history.at(-1)), 'reached through the environment');
    } finally {
      if (saved === undefined) delete process.env.ANTHROPIC_BASE_URL;
      else process.env.ANTHROPIC_BASE_URL = saved;
      await viaEnv.close();
    }
  });

  it('keeps a large written file out of later requests: the call keeps its start and a note, the file keeps it all', async () => {
    h = await startAgentHarness();
    const content = `${'generated line\n'.repeat(20_000)}`;
    h.server.enqueue(toolCall('write_file', { path: 'big.txt', content }, 'toolu_big'), textReply('Written.'));
    await h.session.send('write a big file');
    assert.equal(readFileSync(join(h.workspace, 'big.txt'), 'utf8'), content);
    const second = JSON.stringify(h.server.requests[1].body);
    assert.ok(second.length < 20_000, `the next request is ${second.length} bytes`);
    const call = blocksOf(messagesOf(h.server.requests[1]).at(-2)).find((b) => b.type === 'tool_use');
    const kept = (call?.input as { content: string }).content;
    assert.ok(kept.startsWith('generated line\n'));
    assert.match(kept, /\[… 298000 more characters of this content are not kept in the conversation, to save room; read the file to see them\.\]$/);
  });
});

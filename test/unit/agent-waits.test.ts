// The loop with background_run calls that wait until ready: waits in one message run side by side, results
// go back in call order, a later call of another tool waits for them, Stop answers them at once, and a
// notify_on match wakes an idle agent. Real tools, real processes, the scripted API.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { blocksOf, messagesOf, startAgentHarness, textOf, type AgentHarness } from '../support/agentHarness';
import { textReply, toolCall, toolCalls } from '../support/scriptedServer';
import { until } from '../support/toolEnv';

describe('agent: waits until ready', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('waits of one message run side by side; their results come back in call order', async () => {
    h = await startAgentHarness();
    // A is only ready once B has started and printed: waited one after the other, A would time out.
    h.server.enqueue(
      toolCalls([
        { name: 'background_run', id: 'toolu_a', input: { command: 'until [ -f b.up ]; do sleep 0.02; done; echo "A ready"; sleep 600', wait_for: 'A ready', wait_timeout_s: 30 } },
        { name: 'background_run', id: 'toolu_b', input: { command: 'touch b.up; echo "B ready"; sleep 600', wait_for: 'B ready', wait_timeout_s: 30 } },
      ]),
      textReply('Both are up.'),
    );
    await h.session.send('start both');
    const results = blocksOf(messagesOf(h.server.requests[1]).at(-1)).filter((b) => b.type === 'tool_result');
    assert.deepEqual(results.map((b) => b.tool_use_id), ['toolu_a', 'toolu_b']);
    assert.match(String(results[0].content), /is ready after .*the line "A ready" matched/);
    assert.match(String(results[1].content), /is ready after .*the line "B ready" matched/);
    assert.deepEqual(h.server.rejected, []);
  });

  it('a call of another tool after a wait runs once the wait is over', async () => {
    h = await startAgentHarness();
    h.server.enqueue(
      toolCalls([
        { name: 'background_run', id: 'toolu_srv', input: { command: 'sleep 0.3; echo up > state; echo listening; sleep 600', wait_for: 'listening' } },
        { name: 'bash', id: 'toolu_cat', input: { command: 'cat state' } },
      ]),
      textReply('Checked.'),
    );
    await h.session.send('start and check');
    const ends = h.eventsOf('tool_end');
    assert.deepEqual(ends.map((e) => e.toolUseId), ['toolu_srv', 'toolu_cat']);
    assert.match(ends[1].result, /^Exit code 0 .*\nup$/);
  });

  it('a background_run without a wait after a waiting one starts once the wait is over', async () => {
    h = await startAgentHarness();
    h.server.enqueue(
      toolCalls([
        { name: 'background_run', id: 'toolu_srv', input: { command: 'sleep 0.3; echo up > state; echo listening; sleep 600', wait_for: 'listening' } },
        { name: 'background_run', id: 'toolu_e2e', input: { command: 'cat state > seen.part; mv seen.part seen; sleep 600' } },
      ]),
      textReply('Both started.'),
    );
    await h.session.send('start the server, then the tests');
    // `seen` appears whole (mv), so an empty read means the second task ran before the first was ready,
    // never that the shell had opened the file and cat had not written yet.
    await until(() => existsSync(join(h!.workspace, 'seen')), 'the second task to run');
    assert.equal(readFileSync(join(h.workspace, 'seen'), 'utf8'), 'up\n', 'it started after the first was ready');
  });

  it('Stop answers a waiting call at once with the task that keeps running', async () => {
    h = await startAgentHarness();
    h.server.enqueue(toolCall('background_run', { command: 'sleep 600', wait_for: 'never' }, 'toolu_wait'), textReply('unused'));
    const turn = h.session.send('start it');
    await h.nextEvent('tool_start');
    const manager = h.manager;
    await until(() => manager.list()[0]?.waitingUntilReady === true, 'the wait to show on the task');
    h.session.stop();
    await turn;
    const end = h.eventsOf('tool_end')[0];
    assert.match(end.result, /^Stopped waiting after .*the person pressed Stop\. Background task \S+ was not killed\./);
    assert.equal(manager.list()[0].status, 'running');
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'aborted');
  });

  it('a notify_on match wakes the idle agent with a matched entry', async () => {
    h = await startAgentHarness();
    h.server.enqueue(
      toolCall('background_run', { command: 'while [ ! -f go ]; do sleep 0.05; done; echo "src/app.ts(3,1): error TS2304"; sleep 600', notify_on: 'error TS' }),
      textReply('Watching.'),
      textReply('A type error appeared.'),
    );
    await h.session.send('start the watcher');
    writeFileSync(join(h.workspace, 'go'), '');
    await h.nextEvent('turn_end', (e) => e.reason === 'end_turn' && h!.eventsOf('turn_start').length === 2, 20_000);
    const woke = textOf(messagesOf(h.server.requests[2]).at(-1));
    assert.match(woke, /<background-results>[\s\S]*\[bg:\S+\] matched notify_on \/error TS\/: 1 line \(still running[\s\S]*> src\/app\.ts\(3,1\): error TS2304/);
    assert.equal(h.eventsOf('turn_start')[1].trigger, 'background');
  });
});


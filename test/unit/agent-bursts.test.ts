// Bursts of finished tasks (issue 14): results that come close together reach the model together, a lone
// one is not held back, spread ones are not held for long, and delivering results never uses up the turn
// limit. Real SDK, real scripted server, real shell tasks gated on files the test creates, so what ends
// when is decided by the test. Windows are set wide where a test needs them to be certain, which costs
// nothing: the wait ends as soon as the conversation's last task has ended.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { coalescingDelay } from '../../src/core/agent/resultCoalescing';
import type { TaskManager } from '../../src/core/tasks/types';
import { CONVERSATION_ID, messagesOf, startAgentHarness, textOf, type AgentHarness } from '../support/agentHarness';
import { fnStep, textReply, toolCall, toolCalls } from '../support/scriptedServer';

const gated = (gate: string, output: string): string => `while [ ! -f ${gate} ]; do sleep 0.02; done; echo ${output}`;
const WIDE = { quietMs: 30_000, maxWaitMs: 60_000 };
/** One model message that starts a background task per command. */
const startsAll = (...commands: string[]) => toolCalls(commands.map((command) => ({ name: 'background_run', input: { command } })));

describe('coalescingDelay', () => {
  const managerWith = (running: number, span?: { first: number; last: number }): TaskManager =>
    ({ runningCount: () => running, notifications: { queuedSpan: () => span } }) as unknown as TaskManager;
  const window = { quietMs: 100, maxWaitMs: 1000 };

  it('is 0 with nothing queued, or when nothing of the conversation still runs (a lone end goes at once)', () => {
    assert.equal(coalescingDelay(managerWith(3), 'c', window, undefined, 5000), 0);
    assert.equal(coalescingDelay(managerWith(0, { first: 5000, last: 5000 }), 'c', window, undefined, 5000), 0);
  });

  it('waits for a quiet spell after the newest result, never past the cap after the oldest', () => {
    assert.equal(coalescingDelay(managerWith(2, { first: 5000, last: 5000 }), 'c', window, undefined, 5000), 100);
    assert.equal(coalescingDelay(managerWith(2, { first: 5000, last: 5060 }), 'c', window, undefined, 5070), 90, 'each new result restarts the quiet spell');
    assert.equal(coalescingDelay(managerWith(2, { first: 5000, last: 5950 }), 'c', window, undefined, 5960), 40, 'but the oldest waits at most the cap');
    assert.equal(coalescingDelay(managerWith(2, { first: 5000, last: 5100 }), 'c', window, undefined, 5300), 0, 'quiet long enough');
  });

  it('counts the cap from `since` for results left from before it, and never waits longer than the cap', () => {
    assert.equal(coalescingDelay(managerWith(2, { first: 1000, last: 9000 }), 'c', window, 9000, 9000), 100, 'a stale result does not cut the new window short');
    assert.equal(coalescingDelay(managerWith(2, { first: 9000, last: 9000 }), 'c', window, 1000, 9050), 50);
    assert.equal(coalescingDelay(managerWith(2, { first: 50_000, last: 50_000 }), 'c', window, undefined, 9000), 1000, 'a clock that stepped back');
  });
});

describe('agent: bursts of finished tasks', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });
  const open = (harness: AgentHarness, gate: string): void => writeFileSync(join(harness.workspace, gate), '');
  const tasksWith = (harness: AgentHarness, text: string) => harness.manager.list().filter((t) => t.command.includes(text));
  const endOf = (harness: AgentHarness, text: string) => Promise.all(tasksWith(harness, text).map((t) => harness.manager.waitForEnd(t.id)));

  it('a burst: results queued while more of the tasks are ending go out together, in one call', async () => {
    h = await startAgentHarness({ deps: { coalescing: WIDE } });
    const harness = h;
    harness.server.enqueue(
      startsAll(...[...Array(5)].flatMap((_, i) => [gated('gate-a', `early-${i}`), gated('gate-b', `late-${i}`)])),
      // Half of them end while the model answers; the other half is still running when it ends its turn.
      fnStep(async () => {
        open(harness, 'gate-a');
        await endOf(harness, 'early-');
        return textReply('Ten started.');
      }),
      textReply('All ten are done.'),
    );
    const turn = harness.session.send('start ten');
    await harness.nextEvent('text_delta', (e) => e.text === 'Ten started.');
    // Without the window the five queued results would already be on their way, alone.
    open(harness, 'gate-b');
    await turn;

    assert.deepEqual(harness.server.rejected, []);
    assert.equal(harness.server.requests.length, 3, 'one call for all ten results');
    const delivered = harness.eventsOf('notifications_delivered');
    assert.equal(delivered.length, 1);
    assert.equal(delivered[0].taskIds.length, 10);
    const block = textOf(messagesOf(harness.server.requests[2]).at(-1));
    for (const task of harness.manager.list()) assert.match(block, new RegExp(`\\[bg:${task.id}\\] completed`));
    assert.deepEqual(harness.eventsOf('turn_end').map((e) => e.reason), ['end_turn']);
  });

  it('an idle agent wakes once for tasks that end one after another, not once per task', async () => {
    h = await startAgentHarness({ deps: { coalescing: WIDE } });
    const harness = h;
    harness.server.enqueue(startsAll(...[...Array(5)].map((_, i) => gated(`gate-${i}`, `out-${i}`))), textReply('Five started.'));
    await harness.session.send('start five');
    harness.server.enqueue(textReply('All five are done.'));
    for (let i = 0; i < 5; i++) {
      open(harness, `gate-${i}`);
      await endOf(harness, `out-${i}`);
    }
    await harness.session.whenSettled();
    assert.deepEqual(harness.eventsOf('turn_start').map((e) => e.trigger), ['user', 'background']);
    assert.equal(harness.server.requests.length, 3);
    assert.deepEqual(harness.eventsOf('notifications_delivered').map((e) => e.taskIds.length), [5]);
  });

  it('a message the person sends while an idle agent waits for more results goes at once, with them', async () => {
    h = await startAgentHarness({ deps: { coalescing: WIDE } });
    const harness = h;
    harness.server.enqueue(
      startsAll(gated('gate', 'done-early'), 'sleep 600'),
      textReply('Both started.'),
    );
    await harness.session.send('start two');
    const [early] = tasksWith(harness, 'done-early');
    open(harness, 'gate');
    await harness.manager.waitForEnd(early.id);
    // Time enough for a wake-up that did not wait to have started (the test passes either way if it waits).
    await new Promise((resolve) => setTimeout(resolve, 300));
    harness.server.enqueue(textReply('One is done, one still runs.'));
    await harness.session.send('how is it going?');
    assert.deepEqual(harness.eventsOf('turn_start').map((e) => e.trigger), ['user', 'user'], 'no woken turn stood in the way');
    assert.match(textOf(messagesOf(harness.server.requests[2]).at(-1)), /how is it going\?[^]*<background-results>[^]*done-early/);
  });

  it('Stop while the turn waits for more results: no call, and the results stay queued', async () => {
    h = await startAgentHarness({ deps: { coalescing: WIDE } });
    const harness = h;
    harness.server.enqueue(
      startsAll(gated('gate', 'stopped-early'), 'sleep 600'),
      fnStep(async () => {
        open(harness, 'gate');
        await endOf(harness, 'stopped-early');
        return textReply('Both started.');
      }),
    );
    const turn = harness.session.send('start two');
    await harness.nextEvent('text_delta', (e) => e.text === 'Both started.');
    harness.session.stop();
    await turn;
    assert.deepEqual(harness.eventsOf('turn_end').map((e) => e.reason), ['aborted']);
    assert.equal(harness.server.requests.length, 2);
    assert.equal(harness.manager.notifications.pendingCount(CONVERSATION_ID), 1);
  });

  it('a message the person sends while the turn waits for more results ends the wait; their turn carries the results', async () => {
    h = await startAgentHarness({ deps: { coalescing: WIDE } });
    const harness = h;
    harness.server.enqueue(
      startsAll(gated('gate', 'ready-one'), 'sleep 600'),
      fnStep(async () => {
        open(harness, 'gate');
        await endOf(harness, 'ready-one');
        return textReply('Both started.');
      }),
      textReply('One is done.'),
    );
    const first = harness.session.send('start two');
    await harness.nextEvent('text_delta', (e) => e.text === 'Both started.');
    await harness.session.send('and now?');
    await first;
    assert.deepEqual(harness.eventsOf('turn_start').map((e) => e.trigger), ['user', 'user']);
    assert.equal(harness.server.requests.length, 3, 'no delivery call of its own');
    assert.match(textOf(messagesOf(harness.server.requests[2]).at(-1)), /and now\?[^]*<background-results>[^]*ready-one/);
  });

  it('a wake-up armed before a turn that fails does not start a turn of its own afterwards', async () => {
    h = await startAgentHarness({ session: { apiKey: '' }, deps: { coalescing: { quietMs: 200, maxWaitMs: 600_000 } } });
    const harness = h;
    // Another task of the conversation keeps the window open: the wake-up is armed, not fired.
    harness.manager.start({ command: 'sleep 600', cwd: harness.workspace, foreground: true, origin: { kind: 'agent', conversationId: CONVERSATION_ID } });
    const task = harness.manager.start({ command: 'echo queued', cwd: harness.workspace, origin: { kind: 'user', conversationId: CONVERSATION_ID } });
    await harness.manager.waitForEnd(task.id);
    await harness.session.send('hello');
    assert.equal(harness.eventsOf('error')[0]?.kind, 'auth');
    // Longer than the window: a wake-up left armed would have fired by now.
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual(harness.eventsOf('turn_start').map((e) => e.trigger), ['user']);
    assert.equal(harness.eventsOf('error').length, 1);
    assert.equal(harness.manager.notifications.pendingCount(CONVERSATION_ID), 1, 'the result waits for the next message');
  });

  it('a lone completion is not held back, however wide the window', async () => {
    h = await startAgentHarness({ deps: { coalescing: { quietMs: 600_000, maxWaitMs: 600_000 } } });
    const harness = h;
    harness.server.enqueue(toolCall('background_run', { command: gated('gate', 'alone') }), textReply('Started.'));
    await harness.session.send('start one');
    harness.server.enqueue(textReply('It printed alone.'));
    const settled = harness.session.whenSettled();
    open(harness, 'gate');
    // Were the window applied, this would wait ten minutes (and the test time out).
    await settled;
    assert.equal(harness.server.requests.length, 3);
    assert.match(textOf(messagesOf(harness.server.requests[2]).at(-1)), /alone/);
  });

  it('completions spread over seconds: each goes out within the cap, without waiting for the tasks still running', async () => {
    h = await startAgentHarness({ deps: { coalescing: { quietMs: 600_000, maxWaitMs: 1000 } } });
    const harness = h;
    harness.server.enqueue(
      startsAll(gated('gate-1', 'alpha'), gated('gate-2', 'beta'), gated('gate-3', 'gamma'), gated('gate-holder', 'holder')),
      textReply('Four started.'),
    );
    await harness.session.send('start four');
    const [holder] = tasksWith(harness, 'holder');
    harness.events.length = 0;
    for (const [n, word] of ['alpha', 'beta', 'gamma'].entries()) {
      harness.server.enqueue(textReply(`Got ${word}.`));
      const [task] = tasksWith(harness, word);
      open(harness, `gate-${n + 1}`);
      await harness.nextEvent('notifications_delivered', (e) => e.taskIds.includes(task.id), 20_000);
      assert.equal(harness.manager.get(holder.id)?.status, 'running', 'delivered by the cap, not by the last task ending');
      await harness.nextEvent('turn_end', undefined, 20_000);
      harness.events.length = 0;
    }
    harness.server.enqueue(textReply('The last one is done.'));
    open(harness, 'gate-holder');
    await endOf(harness, 'holder');
    await harness.session.whenSettled();
    assert.deepEqual(harness.server.rejected, []);
    const blocks = harness.server.requests.map((r) => textOf(messagesOf(r).at(-1))).filter((t) => t.includes('<background-results>'));
    assert.equal(blocks.length, 4, 'one block per completion');
    for (const block of blocks) assert.equal(block.match(/^\[bg:/gm)?.length, 1);
  });

  it('a result alone goes out after the quiet spell while other tasks keep running', async () => {
    h = await startAgentHarness({ deps: { coalescing: { quietMs: 200, maxWaitMs: 600_000 } } });
    const harness = h;
    harness.server.enqueue(
      startsAll(gated('gate-1', 'quick'), 'sleep 600'),
      textReply('Both started.'),
      textReply('The quick one is done.'),
    );
    await harness.session.send('start two');
    const [quick] = tasksWith(harness, 'quick');
    open(harness, 'gate-1');
    const delivered = await harness.nextEvent('notifications_delivered', undefined, 20_000);
    assert.deepEqual(delivered.taskIds, [quick.id]);
    assert.equal(tasksWith(harness, 'sleep 600')[0].status, 'running');
    await harness.nextEvent('text_delta', (e) => e.text === 'The quick one is done.', 20_000);
  });

  it('calls that only deliver results do not count toward the turn limit', async () => {
    h = await startAgentHarness({ session: { maxTurns: 2 } });
    const harness = h;
    harness.server.enqueue(
      startsAll(gated('gate-1', 'first'), gated('gate-2', 'second'), gated('gate-3', 'third')),
      // The two counted calls are used up here; each result then comes in while the model answers.
      fnStep(async () => {
        open(harness, 'gate-1');
        await endOf(harness, 'first');
        return textReply('Three started.');
      }),
      fnStep(async () => {
        open(harness, 'gate-2');
        await endOf(harness, 'second');
        return textReply('Got the first.');
      }),
      fnStep(async () => {
        open(harness, 'gate-3');
        await endOf(harness, 'third');
        return textReply('Got the second.');
      }),
      textReply('Got the third.'),
    );
    await harness.session.send('start three');
    assert.deepEqual(harness.server.rejected, []);
    assert.equal(harness.server.requests.length, 5);
    assert.deepEqual(harness.eventsOf('error'), []);
    assert.deepEqual(harness.eventsOf('turn_end').map((e) => e.reason), ['end_turn']);
    assert.equal(harness.eventsOf('notifications_delivered').flatMap((e) => e.taskIds).length, 3);
  });

  it('a turn that ends at its limit leaves every undelivered result queued for the next call', async () => {
    h = await startAgentHarness({ session: { maxTurns: 2, autoResume: false } });
    const harness = h;
    harness.server.enqueue(
      toolCall('background_run', { command: gated('gate', 'kept') }),
      // The second and last counted call asks for another tool: the limit ends the turn after it runs.
      fnStep(async () => {
        open(harness, 'gate');
        await endOf(harness, 'kept');
        return toolCall('read_file', { path: 'missing.txt' });
      }),
    );
    await harness.session.send('go');
    assert.deepEqual(harness.eventsOf('turn_end').map((e) => e.reason), ['max_turns']);
    assert.equal(harness.eventsOf('error')[0]?.kind, 'max_turns');
    assert.equal(harness.manager.notifications.pendingCount(CONVERSATION_ID), 1, 'the result waits in the queue');
    assert.doesNotMatch(JSON.stringify(harness.session.history), /background-results/);

    harness.server.enqueue(textReply('It printed kept.'));
    await harness.session.send('go on');
    const last = messagesOf(harness.server.requests[2]).at(-1);
    assert.match(textOf(last), /go on[^]*<background-results>[^]*kept/);
    assert.equal(harness.manager.notifications.pendingCount(CONVERSATION_ID), 0);
    assert.deepEqual(harness.server.rejected, []);
  });
});

// The notification queue rules of DESIGN.md, through the real SDK, a real BackgroundManager and real
// shell commands. Background commands wait on a gate file the test creates, so when a task ends is
// decided by the test, not by the machine's speed.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { blocksOf, CONVERSATION_ID, messagesOf, startAgentHarness, textOf, type AgentHarness } from '../support/agentHarness';
import { fnStep, textReply, toolCall, toolCalls } from '../support/scriptedServer';

const gated = (name: string, output: string): string => `while [ ! -f ${name} ]; do sleep 0.02; done; echo ${output}`;

describe('agent: background results reach the model', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  const onlyTask = (harness: AgentHarness) => {
    const tasks = harness.manager.list();
    assert.equal(tasks.length, 1, 'exactly one task was started');
    return tasks[0];
  };
  const openGate = (harness: AgentHarness, name = 'gate') => writeFileSync(join(harness.workspace, name), '');

  it('appends the block after the tool results of the same user message, before the next call', async () => {
    h = await startAgentHarness();
    const harness = h;
    harness.server.enqueue(
      toolCall('background_run', { command: gated('gate', 'from-bg') }, 'toolu_bg'),
      // The task ends while the model "thinks": its result must go into the next request.
      fnStep(async () => {
        const task = onlyTask(harness);
        openGate(harness);
        await harness.manager.waitForEnd(task.id);
        return toolCall('bash', { command: 'echo foreground' }, 'toolu_fg');
      }),
      textReply('all done'),
    );
    await harness.session.send('start the build');

    assert.deepEqual(harness.server.rejected, [], 'every request was valid for the API');
    assert.equal(harness.server.requests.length, 3);
    // bash runs its command as a foreground task too; the background one is the gated command.
    const taskId = harness.manager.list().find((t) => t.command.includes('from-bg'))?.id;
    assert.ok(taskId);
    const third = messagesOf(harness.server.requests[2]);
    const last = third.at(-1);
    assert.equal(last?.role, 'user');
    const blocks = blocksOf(last);
    assert.equal(blocks.length, 2);
    assert.equal(blocks[0].type, 'tool_result');
    assert.equal(blocks[0].tool_use_id, 'toolu_fg');
    assert.equal(blocks[1].type, 'text');
    assert.match(blocks[1].text ?? '', /^<background-results>/);
    assert.match(blocks[1].text ?? '', new RegExp(`\\[bg:${taskId}\\] completed \\(exit code 0\\)`));
    assert.match(blocks[1].text ?? '', /from-bg/);
    // The second request still had the bare tool result: nothing had ended yet.
    assert.doesNotMatch(JSON.stringify(messagesOf(harness.server.requests[1])), /background-results/);
    assert.deepEqual(harness.eventsOf('notifications_delivered'), [{ type: 'notifications_delivered', taskIds: [taskId] }]);
    assert.equal(harness.manager.notifications.pendingCount(CONVERSATION_ID), 0);
  });

  it('continues the turn when the model ends it while results are queued, as a new user message', async () => {
    h = await startAgentHarness();
    const harness = h;
    harness.server.enqueue(
      toolCall('background_run', { command: gated('gate', 'pending-out') }, 'toolu_bg'),
      fnStep(async () => {
        const task = onlyTask(harness);
        openGate(harness);
        await harness.manager.waitForEnd(task.id);
        return textReply('I started it and will report back.');
      }),
      textReply('The task printed pending-out.'),
    );
    await harness.session.send('run it');

    assert.deepEqual(harness.server.rejected, []);
    assert.equal(harness.server.requests.length, 3, 'a third request followed the end_turn');
    assert.deepEqual(
      harness.eventsOf('turn_start').map((e) => e.trigger),
      ['user'],
      'all in the one turn the person started',
    );
    assert.deepEqual(harness.eventsOf('turn_end').map((e) => e.reason), ['end_turn']);
    const messages = messagesOf(harness.server.requests[2]);
    assert.equal(messages.at(-2)?.role, 'assistant');
    assert.equal(textOf(messages.at(-2)), 'I started it and will report back.');
    const last = messages.at(-1);
    assert.equal(last?.role, 'user');
    assert.equal(blocksOf(last).length, 1, 'the block is a user message of its own');
    assert.match(textOf(last), /<background-results>[\s\S]*pending-out[\s\S]*<\/background-results>/);
  });

  it('wakes an idle agent when a task it started ends (auto-resume), and whenSettled waits for that turn', async () => {
    h = await startAgentHarness();
    const harness = h;
    harness.server.enqueue(toolCall('background_run', { command: gated('gate', 'late-result') }, 'toolu_bg'), textReply('Started; I will look when it ends.'));
    await harness.session.send('start the slow thing');
    assert.equal(harness.session.busy, false);
    assert.equal(harness.server.requests.length, 2);
    assert.equal(onlyTask(harness).status, 'running');

    harness.server.enqueue(textReply('It printed late-result.'));
    const settled = harness.session.whenSettled();
    openGate(harness);
    await settled;

    assert.deepEqual(harness.server.rejected, []);
    assert.equal(harness.server.requests.length, 3);
    assert.deepEqual(
      harness.eventsOf('turn_start').map((e) => e.trigger),
      ['user', 'background'],
    );
    const messages = messagesOf(harness.server.requests[2]);
    assert.equal(messages.at(-2)?.role, 'assistant');
    assert.equal(messages.at(-1)?.role, 'user');
    assert.match(textOf(messages.at(-1)), /<background-results>[\s\S]*late-result/);
    assert.equal(textOf(harness.session.history.at(-1)), 'It printed late-result.');
  });

  it('batches tasks that end together into one woken turn', async () => {
    // A wide window, which costs nothing: the turn wakes as soon as the second (last) task has ended.
    h = await startAgentHarness({ deps: { coalescing: { quietMs: 30_000, maxWaitMs: 60_000 } } });
    const harness = h;
    harness.server.enqueue(
      toolCalls([
        { name: 'background_run', input: { command: gated('gate', 'one') } },
        { name: 'background_run', input: { command: gated('gate', 'two') } },
      ]),
      textReply('Both started.'),
    );
    await harness.session.send('start two');
    assert.equal(harness.manager.list().length, 2);

    harness.server.enqueue(textReply('Both finished.'));
    const settled = harness.session.whenSettled();
    openGate(harness);
    await settled;

    assert.deepEqual(harness.server.rejected, []);
    assert.equal(harness.server.requests.length, 3, 'one woken request for both tasks');
    const text = textOf(messagesOf(harness.server.requests[2]).at(-1));
    for (const task of harness.manager.list()) assert.match(text, new RegExp(`\\[bg:${task.id}\\]`));
    assert.equal(harness.eventsOf('notifications_delivered')[0]?.taskIds.length, 2);
  });

  it('with auto-resume off, stays idle and delivers the results with the next message', async () => {
    h = await startAgentHarness({ session: { autoResume: false } });
    const harness = h;
    harness.server.enqueue(toolCall('background_run', { command: gated('gate', 'quiet-result') }), textReply('Started.'));
    await harness.session.send('start it');
    const task = onlyTask(harness);
    openGate(harness);
    await harness.manager.waitForEnd(task.id);
    // Nothing will deliver the queued result by itself, so the session counts as settled.
    await harness.session.whenSettled();
    assert.equal(harness.manager.notifications.pendingCount(CONVERSATION_ID), 1);
    assert.equal(harness.session.busy, false);

    harness.server.enqueue(textReply('I see quiet-result.'));
    await harness.session.send('what happened?');
    assert.equal(harness.server.requests.length, 3);
    assert.deepEqual(harness.eventsOf('turn_start').map((e) => e.trigger), ['user', 'user']);
    const last = messagesOf(harness.server.requests[2]).at(-1);
    const blocks = blocksOf(last);
    assert.equal(blocks[0].text, 'what happened?');
    assert.match(blocks[1].text ?? '', /quiet-result/);
    assert.deepEqual(harness.server.rejected, []);
  });

  it('drains results queued for this conversation by a task the person started', async () => {
    h = await startAgentHarness();
    const harness = h;
    const task = harness.manager.start({ command: 'echo user-task', cwd: harness.workspace, origin: { kind: 'user', conversationId: CONVERSATION_ID } });
    harness.server.enqueue(textReply('Your command printed user-task.'));
    const woke = harness.nextEvent('turn_start', (e) => e.trigger === 'background');
    await harness.manager.waitForEnd(task.id);
    await woke;
    await harness.session.whenSettled();
    assert.equal(harness.server.requests.length, 1);
    const messages = messagesOf(harness.server.requests[0]);
    assert.equal(messages.length, 1, 'a fresh conversation starts with the block as its user message');
    assert.match(textOf(messages[0]), /user-task/);
    assert.deepEqual(harness.server.rejected, []);
  });

  it('Stop while a wake-up is pending cancels it; the results wait for the next message', async () => {
    // A long window held open by another task of the conversation, so the wake-up is certainly still pending
    // when Stop is pressed. That task is a foreground one: its end is not notified and wakes nothing.
    h = await startAgentHarness({ deps: { coalescing: { quietMs: 60_000, maxWaitMs: 60_000 } } });
    const harness = h;
    const holder = harness.manager.start({ command: gated('gate', 'holder'), cwd: harness.workspace, foreground: true, origin: { kind: 'agent', conversationId: CONVERSATION_ID } });
    const task = harness.manager.start({ command: 'echo waiting-result', cwd: harness.workspace, origin: { kind: 'user', conversationId: CONVERSATION_ID } });
    await harness.manager.waitForEnd(task.id);
    assert.equal(harness.manager.notifications.pendingCount(CONVERSATION_ID), 1);
    harness.session.stop();
    openGate(harness);
    await harness.manager.waitForEnd(holder.id);
    await harness.session.whenSettled();
    assert.equal(harness.server.requests.length, 0);
    assert.equal(harness.eventsOf('turn_start').length, 0);

    harness.server.enqueue(textReply('I see waiting-result.'));
    await harness.session.send('anything new?');
    assert.match(JSON.stringify(messagesOf(harness.server.requests[0])), /waiting-result/);
    assert.deepEqual(harness.server.rejected, []);
  });
});

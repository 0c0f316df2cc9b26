// Approval inside the agent loop, through the real SDK and the scripted server: a denial reaches the model
// as an is_error result and the turn goes on; a turn that starts by itself (auto-resume) waits for the
// person instead of skipping the question; the API key never goes back to the model.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { testApproval } from '../support/approvals';
import { blocksOf, messagesOf, startAgentHarness, type AgentHarness } from '../support/agentHarness';
import { fnStep, textReply, toolCall } from '../support/scriptedServer';

describe('agent: approval in the loop', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('a denied command reaches the model as an is_error result and the turn goes on', async () => {
    const approval = testApproval();
    approval.approver.answer({ kind: 'deny' });
    h = await startAgentHarness({ session: { approval: approval.gate } });
    h.server.enqueue(toolCall('bash', { command: 'rm -rf build' }, 'toolu_rm'), textReply('Understood, I will not delete it.'));
    await h.session.send('clean up');
    const [, second] = h.server.requests;
    const result = blocksOf(messagesOf(second).at(-1)).find((b) => b.type === 'tool_result');
    assert.equal(result?.is_error, true);
    assert.match(JSON.stringify(result?.content), /The person denied running `rm -rf build`/);
    assert.equal(h.server.rejected.length, 0);
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
  });

  it('a turn started by finished tasks waits for the person, then goes on with the answer', async () => {
    const approval = testApproval();
    h = await startAgentHarness({ session: { approval: approval.gate } });
    const harness = h;
    harness.server.enqueue(
      toolCall('background_run', { command: `while [ ! -f gate ]; do sleep 0.02; done; echo built` }, 'toolu_bg'),
      textReply('The build runs.'),
      // The resumed turn wants to run something that needs approval.
      toolCall('bash', { command: 'touch deployed.txt' }, 'toolu_deploy'),
      textReply('Deployed.'),
    );
    // The background_run itself (`while … sleep … echo`) is read-only: no question for it.
    await harness.session.send('build, then deploy');
    writeFileSync(join(harness.workspace, 'gate'), '');
    const request = await approval.approver.untilAsked(1);
    assert.equal(request.kind === 'command' && request.command, 'touch deployed.txt');
    assert.equal(harness.eventsOf('turn_start').at(-1)?.trigger, 'background');
    // Nobody answers yet: the session is busy, not settled, and nothing ran.
    assert.equal(harness.session.busy, true);
    assert.equal(harness.server.requests.length, 3);
    assert.equal(existsSync(join(harness.workspace, 'deployed.txt')), false);
    approval.approver.answer({ kind: 'allow' });
    await harness.session.whenSettled(AbortSignal.timeout(20_000));
    assert.equal(harness.server.requests.length, 4);
    assert.equal(harness.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
  });

  it('Stop answers a waiting question with a denial', async () => {
    const approval = testApproval();
    h = await startAgentHarness({ session: { approval: approval.gate } });
    h.server.enqueue(toolCall('bash', { command: 'touch x' }, 'toolu_x'));
    const turn = h.session.send('make x');
    await approval.approver.untilAsked(1);
    h.session.stop();
    await turn;
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'aborted');
    assert.equal(h.server.requests.length, 1);
    // The question was answered with a denial (the scripted person never answered it), and nothing ran.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(existsSync(join(h.workspace, 'x')), false);
  });

  it('replaces the API key in tool results and background results before the model sees them', async () => {
    const key = 'sk-ant-api03-test-SECRET-9f8e7d6c5b4a';
    h = await startAgentHarness({ session: { apiKey: key } });
    const harness = h;
    writeFileSync(join(harness.workspace, '.env'), `ANTHROPIC_API_KEY=${key}\n`);
    harness.server.enqueue(
      toolCall('bash', { command: 'cat .env' }, 'toolu_cat'),
      toolCall('background_run', { command: 'cat .env' }, 'toolu_bg'),
      fnStep(async () => {
        await harness.manager.waitForEnd(harness.manager.list()[0].id);
        return textReply('Read it.');
      }),
      textReply('done'),
    );
    await harness.session.send('show the env file');
    await harness.session.whenSettled(AbortSignal.timeout(20_000));
    const sent = JSON.stringify(harness.server.requests.map((r) => r.body));
    assert.ok(!sent.includes(key), 'the key never went back to the API');
    const last = JSON.stringify(harness.server.requests.at(-1)?.body?.messages?.at(-1));
    assert.match(last, /<background-results>[^]*ANTHROPIC_API_KEY=\[API key hidden\]/, 'the background result was redacted too');
    const toolEnds = harness.eventsOf('tool_end').map((e) => e.result).join('\n');
    assert.ok(!toolEnds.includes(key), 'nor to the transcript');
  });
});

// Retries and errors: 429/529/5xx and cut connections are retried (honouring retry-after) with a visible
// `retry` event; what survives the retries becomes one `error` event with a kind and a sentence, never a
// throw, and the history stays valid.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { startAgentHarness, textOf, type AgentHarness } from '../support/agentHarness';
import { dropAfter, errorReply, textReply } from '../support/scriptedServer';

describe('agent: retries and errors', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => {
    await h?.dispose();
    h = undefined;
  });

  it('retries a 429 after its retry-after and a 529 with backoff, then answers', async () => {
    h = await startAgentHarness();
    h.server.enqueue(errorReply(429, { retryAfterS: 0.05 }), errorReply(529), textReply('made it'));
    await h.session.send('hi');
    assert.equal(h.server.requests.length, 3);
    const retries = h.eventsOf('retry');
    assert.equal(retries.length, 2);
    assert.deepEqual(retries[0], { type: 'retry', attempt: 1, status: 429, delayMs: 50 });
    assert.equal(retries[1].attempt, 2);
    assert.equal(retries[1].status, 529);
    assert.ok(retries[1].delayMs > 0 && retries[1].delayMs <= 20, 'backoff from the configured policy');
    assert.equal(h.eventsOf('error').length, 0);
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
    assert.equal(textOf(h.session.history.at(-1)), 'made it');
  });

  it('reports overloaded after the retries run out, then works on the next message', async () => {
    h = await startAgentHarness({ deps: { retry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 5 } } });
    h.server.enqueue(errorReply(529), errorReply(529), errorReply(529, { message: 'Overloaded' }));
    await h.session.send('hi');
    assert.equal(h.server.requests.length, 3, 'one try and two retries');
    const [error] = h.eventsOf('error');
    assert.equal(error.kind, 'overloaded');
    assert.match(error.message, /overloaded \(529\): Overloaded/);
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'error');

    h.server.enqueue(textReply('back'));
    await h.session.send('again');
    assert.deepEqual(h.server.rejected, []);
    assert.equal(textOf(h.session.history.at(-1)), 'back');
  });

  it('maps 429 after retries to rate_limit, 401 to auth and 400 to api without retrying them', async () => {
    h = await startAgentHarness({ deps: { retry: { maxRetries: 0 } } });
    h.server.enqueue(errorReply(429, { message: 'Slow down' }));
    await h.session.send('a');
    h.server.enqueue(errorReply(401, { message: 'invalid x-api-key' }));
    await h.session.send('b');
    h.server.enqueue(errorReply(400, { message: 'prompt is too long' }));
    await h.session.send('c');
    assert.deepEqual(
      h.eventsOf('error').map((e) => e.kind),
      ['rate_limit', 'auth', 'api'],
    );
    assert.match(h.eventsOf('error')[2].message, /400: prompt is too long/);
    assert.equal(h.eventsOf('retry').length, 0);
    assert.equal(h.server.requests.length, 3);
  });

  it('does not call the API without a key', async () => {
    h = await startAgentHarness({ session: { apiKey: undefined } });
    await h.session.send('hi');
    assert.equal(h.server.requests.length, 0);
    const [error] = h.eventsOf('error');
    assert.equal(error.kind, 'auth');
    assert.match(error.message, /API key/);
    assert.equal(textOf(h.session.history[0]), 'hi', 'the message is kept for when a key is set');
  });

  it('retries a stream dropped before any text, so the answer appears once', async () => {
    h = await startAgentHarness();
    h.server.enqueue(dropAfter(2, textReply('whole answer')), textReply('whole answer'));
    await h.session.send('hi');
    assert.equal(h.server.requests.length, 2);
    assert.equal(h.eventsOf('retry').length, 1);
    assert.equal(h.eventsOf('retry')[0].status, undefined);
    assert.equal(
      h.eventsOf('text_delta').map((e) => e.text).join(''),
      'whole answer',
    );
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'end_turn');
  });

  it('reports a stream dropped after text as a connection error, keeping a valid history', async () => {
    h = await startAgentHarness();
    h.server.enqueue(dropAfter(6, textReply('one two three four five six seven', { chunkSize: 4 })));
    await h.session.send('count');
    assert.equal(h.server.requests.length, 1, 'text already shown is not replayed');
    const [error] = h.eventsOf('error');
    assert.equal(error.kind, 'connection');
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'error');
    const partial = h.eventsOf('text_delta').map((e) => e.text).join('');
    assert.ok(partial.length > 0);
    assert.equal(textOf(h.session.history.at(-1)), partial.trimEnd());

    h.server.enqueue(textReply('resumed'));
    await h.session.send('go on');
    assert.deepEqual(h.server.rejected, []);
  });

  it('reports a refused connection after its retries', async () => {
    // A port that was free a moment ago and has nothing listening now.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    h = await startAgentHarness({ session: { baseURL: `http://127.0.0.1:${port}` }, deps: { retry: { maxRetries: 2, initialDelayMs: 1, maxDelayMs: 2 } } });
    await h.session.send('anyone?');
    assert.equal(h.eventsOf('retry').length, 2);
    const [error] = h.eventsOf('error');
    assert.equal(error.kind, 'connection');
    assert.match(error.message, /connection/i);
    assert.equal(h.eventsOf('turn_end').at(-1)?.reason, 'error');
  });
});

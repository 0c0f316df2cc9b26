// The scripted server is the ground truth for every agent test, so it is tested itself: through the
// real SDK, it must stream and answer like the API and reject the histories the API rejects.
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, beforeEach, describe, it } from 'node:test';
import { dropAfter, errorReply, fnStep, stall, startScriptedServer, textReply, toolCall, type ScriptedServer } from '../support/scriptedServer';

describe('scripted Anthropic server', () => {
  let server: ScriptedServer;
  let client: Anthropic;

  before(async () => {
    server = await startScriptedServer();
    client = new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 });
  });
  after(() => server.close());
  beforeEach(() => {
    assert.equal(server.pending, 0, 'previous test left steps queued');
  });

  const base = { model: 'claude-test', max_tokens: 100 };
  const hi: MessageParam[] = [{ role: 'user', content: 'hi' }];

  it('streams text in many deltas and tool input as input_json_delta, through the SDK', async () => {
    const long = 'word '.repeat(50);
    server.enqueue(toolCall('bash', { command: 'echo hi' }, 'toolu_1', { text: long, chunkSize: 7 }));
    const deltas: string[] = [];
    const stream = client.messages.stream({ ...base, messages: hi });
    stream.on('text', (t) => deltas.push(t));
    const message = await stream.finalMessage();
    assert.ok(deltas.length > 30, `expected many deltas, got ${deltas.length}`);
    assert.equal(deltas.join(''), long);
    assert.equal(message.stop_reason, 'tool_use');
    const tool = message.content.find((b) => b.type === 'tool_use');
    assert.ok(tool && tool.type === 'tool_use');
    assert.equal(tool.id, 'toolu_1');
    assert.deepEqual(tool.input, { command: 'echo hi' });
    assert.equal(message.usage.input_tokens, 100);
    assert.equal(message.usage.output_tokens, 20);
  });

  it('answers plain JSON when stream is not requested, and records the request', async () => {
    server.enqueue(textReply('plain', { usage: { input_tokens: 7, cache_read_input_tokens: 3 } }));
    const before = server.requests.length;
    const message = await client.messages.create({ ...base, messages: hi });
    assert.deepEqual(message.content, [{ type: 'text', text: 'plain' }]);
    assert.equal(message.usage.input_tokens, 7);
    assert.equal(message.usage.cache_read_input_tokens, 3);
    const recorded = server.requests[before];
    assert.equal(recorded.body?.model, 'claude-test');
    assert.equal(recorded.headers.authorization, 'Bearer test-key'); // SDK 1.x sends the key as a bearer token
  });

  it('lets a function step look at the request', async () => {
    server.enqueue(fnStep((req) => textReply(`you sent ${req.body?.messages?.length} message(s)`)));
    const message = await client.messages.create({ ...base, messages: hi });
    assert.deepEqual(message.content, [{ type: 'text', text: 'you sent 1 message(s)' }]);
  });

  const badHistories: Array<[string, MessageParam[], RegExp]> = [
    [
      'an unanswered tool_use',
      [
        { role: 'user', content: 'run it' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'bash', input: {} }] },
        { role: 'user', content: 'what happened?' },
      ],
      /tool_use` ids were found without `tool_result`.*toolu_a/,
    ],
    [
      'a tool_result for another id',
      [
        { role: 'user', content: 'run it' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'bash', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_b', content: 'x' }] },
      ],
      /toolu_a|toolu_b/,
    ],
    [
      'a tool_result after a text block',
      [
        { role: 'user', content: 'run it' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_a', name: 'bash', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'note' },
            { type: 'tool_result', tool_use_id: 'toolu_a', content: 'x' },
          ],
        },
      ],
      /must come first/,
    ],
    [
      'two user messages in a row',
      [
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ],
      /alternate/,
    ],
    ['a first message from the assistant', [{ role: 'assistant', content: 'hello' }], /first message/],
    [
      'empty content',
      [
        { role: 'user', content: 'a' },
        { role: 'assistant', content: [] },
        { role: 'user', content: 'b' },
      ],
      /non-empty content/,
    ],
  ];

  for (const [name, messages, pattern] of badHistories) {
    it(`rejects ${name} with 400 invalid_request_error, without consuming a step`, async () => {
      server.enqueue(textReply('should stay queued'));
      await assert.rejects(client.messages.create({ ...base, messages }), (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.match(err.message, pattern);
        assert.equal((err.error as { error?: { type?: string } }).error?.type, 'invalid_request_error');
        return true;
      });
      assert.match(server.requests.at(-1)?.rejected ?? '', pattern);
      assert.equal(server.pending, 1);
      await client.messages.create({ ...base, messages: hi }); // drain the step for the next test
    });
  }

  it('rejects more than 4 cache_control breakpoints', async () => {
    const cc = { type: 'ephemeral' as const };
    await assert.rejects(
      client.messages.create({
        ...base,
        system: [
          { type: 'text', text: 'a', cache_control: cc },
          { type: 'text', text: 'b', cache_control: cc },
        ],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'c', cache_control: cc },
              { type: 'text', text: 'd', cache_control: cc },
              { type: 'text', text: 'e', cache_control: cc },
            ],
          },
        ],
      }),
      /maximum of 4 blocks with cache_control.*Found 5/,
    );
  });

  it('rejects a missing model or max_tokens and a missing x-api-key', async () => {
    const post = (body: unknown, headers: Record<string, string> = { 'x-api-key': 'k' }) =>
      fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const noModel = await post({ max_tokens: 5, messages: hi });
    assert.equal(noModel.status, 400);
    assert.deepEqual(await noModel.json(), { type: 'error', error: { type: 'invalid_request_error', message: 'model: Field required' } });
    const noMax = await post({ model: 'm', messages: hi });
    assert.equal(noMax.status, 400);
    const noKey = await post({ ...base, messages: hi }, {});
    assert.equal(noKey.status, 401);
    assert.equal(((await noKey.json()) as { error: { type: string } }).error.type, 'authentication_error');
  });

  it('answers scripted errors with the API body and headers, which the SDK retries', async () => {
    server.enqueue(errorReply(529, { retryAfterS: 0.01 }), errorReply(429, { headers: { 'retry-after-ms': '5' } }), textReply('after retries'));
    const retrying = new Anthropic({ apiKey: 'k', baseURL: server.url, maxRetries: 2 });
    const message = await retrying.messages.create({ ...base, messages: hi });
    assert.deepEqual(message.content, [{ type: 'text', text: 'after retries' }]);

    server.enqueue(errorReply(529));
    await assert.rejects(client.messages.create({ ...base, messages: hi }), (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError);
      assert.equal(err.status, 529);
      assert.equal((err.error as { error?: { type?: string } }).error?.type, 'overloaded_error');
      return true;
    });
  });

  it('fails loudly when the script is exhausted', async () => {
    await assert.rejects(client.messages.create({ ...base, messages: hi }), /script exhausted/);
  });

  it('drops a stream half-way: the SDK sees a connection error after some text', async () => {
    server.enqueue(dropAfter(4, textReply('one two three four five six', { chunkSize: 4 })));
    const seen: string[] = [];
    const stream = client.messages.stream({ ...base, messages: hi });
    stream.on('text', (t) => seen.push(t));
    await assert.rejects(stream.finalMessage());
    assert.ok(seen.length >= 1, 'some text arrived before the drop');
    assert.notEqual(seen.join(''), 'one two three four five six');
  });

  it('stalls until the client aborts', async () => {
    server.enqueue(stall());
    const controller = new AbortController();
    const before = server.requests.length;
    const pending = client.messages.create({ ...base, messages: hi }, { signal: controller.signal });
    await server.waitForRequests(before + 1, 5000);
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof Anthropic.APIUserAbortError);
  });

  it('times out waitForRequests with a clear error', async () => {
    await assert.rejects(server.waitForRequests(server.requests.length + 1, 20), /expected \d+ requests within 20 ms/);
  });
});

describe('scripted server as its own process', () => {
  it('serves a script file, takes more steps over HTTP, and records requests on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scripted-main-'));
    const script = join(dir, 'script.json');
    const record = join(dir, 'requests.json');
    writeFileSync(script, JSON.stringify([textReply('from the file')]));
    // Built next to this test by `esbuild.config.mjs --tests`.
    const child = spawn(process.execPath, [join(__dirname, '..', 'support', 'scriptedServerMain.js'), '--script', script, '--record', record], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const client = new Anthropic({ apiKey: 'k', baseURL: url, maxRetries: 0 });
      const first = await client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'a' }] });
      assert.deepEqual(first.content, [{ type: 'text', text: 'from the file' }]);

      await fetch(`${url}/__script/enqueue`, { method: 'POST', body: JSON.stringify([textReply('queued over HTTP')]) });
      const second = await client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'b' }] });
      assert.deepEqual(second.content, [{ type: 'text', text: 'queued over HTTP' }]);
      const seen = (await (await fetch(`${url}/__script/requests`)).json()) as Array<{ body: { messages: unknown[] } }>;
      assert.equal(seen.length, 2);

      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      const recorded = JSON.parse(readFileSync(record, 'utf8')) as unknown[];
      assert.equal(recorded.length, 2);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The scripted server is the ground truth for every agent test, so it is tested itself: through the
// real SDK, it must stream and answer like the API and reject the histories the API rejects.
import Anthropic from '@anthropic-ai/sdk';
import type { MessageCreateParamsNonStreaming, MessageParam, TextBlockParam } from '@anthropic-ai/sdk/resources/messages';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  countRequestTokens,
  dropAfter,
  errorReply,
  fnStep,
  stall,
  startScriptedServer,
  textReply,
  toolCall,
  type MessagesBody,
  type ScriptedServer,
} from '../support/scriptedServer';

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

  it('keeps the fixed usage (100 in, 20 out, no cache) without contextLimit or promptCache, and counts tokens', async () => {
    const cc = { type: 'ephemeral' as const };
    const body = { ...base, system: [{ type: 'text' as const, text: 'rules '.repeat(1000), cache_control: cc }], messages: hi };
    server.enqueue(textReply('one'), textReply('two'));
    // Sent twice: a simulated cache, were it on by default, would write then read the long system prompt.
    for (let i = 0; i < 2; i++) {
      const { usage } = await client.messages.create(body);
      assert.deepEqual(
        [usage.input_tokens, usage.output_tokens, usage.cache_creation_input_tokens, usage.cache_read_input_tokens],
        [100, 20, 0, 0],
      );
    }
    assert.equal(server.requests.at(-1)?.tokens, countRequestTokens(body as MessagesBody));
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

  it('takes --context-limit: a prompt over it gets the 400 "prompt is too long"', async () => {
    const child = spawn(process.execPath, [join(__dirname, '..', 'support', 'scriptedServerMain.js'), '--context-limit', '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      const body = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'a'.repeat(100) }] };
      const res = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'k' }, body: JSON.stringify(body) });
      assert.equal(res.status, 400);
      const { error } = (await res.json()) as { error: { message: string } };
      assert.equal(error.message, `prompt is too long: ${countRequestTokens(body)} tokens > 10 maximum`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('scripted server with a context limit and a prompt cache', () => {
  const limit = 4000;
  let server: ScriptedServer;
  let client: Anthropic;

  before(async () => {
    server = await startScriptedServer({ contextLimit: limit });
    client = new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 });
  });
  after(() => server.close());
  beforeEach(() => {
    assert.equal(server.pending, 0, 'previous test left steps queued');
    server.resetCache();
  });

  const cc = { type: 'ephemeral' as const };
  const ask = (text: string, maxTokens = 100): MessageCreateParamsNonStreaming => ({ model: 'claude-test', max_tokens: maxTokens, messages: [{ role: 'user', content: text }] });
  const tokensOf = (body: MessageCreateParamsNonStreaming): number => countRequestTokens(body as MessagesBody);
  const post = (body: MessageCreateParamsNonStreaming): Promise<Response> =>
    fetch(`${server.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: JSON.stringify(body) });

  async function assertTooLong(body: MessageCreateParamsNonStreaming, message: string): Promise<void> {
    server.enqueue(textReply('should stay queued'));
    const res = await post(body);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { type: 'error', error: { type: 'invalid_request_error', message } });
    const recorded = server.requests.at(-1);
    assert.equal(recorded?.rejected, message);
    assert.equal(recorded?.tooLong, true);
    assert.equal(recorded?.tokens, tokensOf(body));
    assert.equal(server.pending, 1);
    await client.messages.create(ask('drain')); // the step for the next test's beforeEach
  }

  it('answers a prompt over the limit with 400 "prompt is too long: N tokens > M maximum", without consuming a step', async () => {
    const body = ask('x'.repeat(4 * limit));
    const n = tokensOf(body);
    assert.ok(n > limit, `${n} tokens should exceed ${limit}`);
    await assertTooLong(body, `prompt is too long: ${n} tokens > ${limit} maximum`);
  });

  it('answers a prompt that fits but not with max_tokens with the API\'s "exceed context limit" 400', async () => {
    const body = ask('hello', limit);
    const n = tokensOf(body);
    await assertTooLong(body, `input length and \`max_tokens\` exceed context limit: ${n} + ${limit} > ${limit}, decrease input length or \`max_tokens\` and try again`);
  });

  it('answers a prompt under the limit, with usage counted from the request and the reply', async () => {
    const body = ask('x'.repeat(2 * limit)); // about half the limit
    server.enqueue(textReply('fits'), textReply('again', { usage: { output_tokens: 7 } }));
    const message = await client.messages.create(body);
    assert.deepEqual(message.content, [{ type: 'text', text: 'fits' }]);
    const recorded = server.requests.at(-1);
    assert.equal(recorded?.rejected, undefined);
    assert.equal(recorded?.tooLong, undefined);
    assert.equal(recorded?.tokens, tokensOf(body));
    // The stand-in rule by hand: the string content is one text block at bytes / 4, plus 4 for the message.
    assert.equal(tokensOf(body), Math.ceil(Buffer.byteLength(JSON.stringify({ type: 'text', text: 'x'.repeat(2 * limit) })) / 4) + 4);
    // No breakpoint: all of it is plain input. Output is the reply's content JSON over 4.
    assert.equal(message.usage.input_tokens, tokensOf(body));
    assert.equal(message.usage.output_tokens, Math.ceil(Buffer.byteLength(JSON.stringify(message.content)) / 4));
    // A step's own usage still wins over the computed one.
    const scripted = await client.messages.create(body);
    assert.equal(scripted.usage.output_tokens, 7);
    assert.equal(scripted.usage.input_tokens, tokensOf(body));
  });

  it('reads the previous turn\'s prefix from the prompt cache, and nothing once the system prompt changes', async () => {
    const longSystem = 'You are a careful coding agent. Keep going until the task is done. '.repeat(100); // ~1700 tokens
    const system = (text: string): TextBlockParam[] => [{ type: 'text', text, cache_control: cc }];
    const tools = [{ name: 'bash', description: 'Run a command', input_schema: { type: 'object' as const, properties: { command: { type: 'string' } } } }];
    const first: MessageCreateParamsNonStreaming = {
      model: 'claude-test',
      max_tokens: 100,
      tools,
      system: system(longSystem),
      messages: [{ role: 'user', content: [{ type: 'text', text: 'list the files', cache_control: cc }] }],
    };
    // The next turn: the history grows and the last breakpoint moves to the new last user message.
    const second: MessageCreateParamsNonStreaming = {
      ...first,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'list the files' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'a.txt b.txt' }] },
        { role: 'user', content: [{ type: 'text', text: 'now read a.txt', cache_control: cc }] },
      ],
    };
    server.enqueue(textReply('a.txt b.txt'), textReply('reading'), textReply('reading'), textReply('reading'));

    const u1 = (await client.messages.create(first)).usage;
    // first's last breakpoint is its last block, so its cached prefix is all of it.
    assert.deepEqual([u1.cache_read_input_tokens, u1.cache_creation_input_tokens, u1.input_tokens], [0, tokensOf(first), 0]);

    // Streamed, so message_start and message_delta both have to carry the computed figures.
    let started: { cache_read_input_tokens?: number | null } | undefined;
    const stream = client.messages.stream(second);
    stream.on('streamEvent', (event) => {
      // A copy: the SDK goes on to update this very object from message_delta.
      if (event.type === 'message_start') started = { ...event.message.usage };
    });
    const u2 = (await stream.finalMessage()).usage;
    assert.equal(u2.cache_read_input_tokens, tokensOf(first));
    assert.equal(started?.cache_read_input_tokens, tokensOf(first));
    assert.ok((u2.cache_creation_input_tokens ?? 0) > 0, 'the new turn is written to the cache');
    assert.equal(u2.input_tokens + (u2.cache_read_input_tokens ?? 0) + (u2.cache_creation_input_tokens ?? 0), tokensOf(second));

    const third = { ...second, system: system(`${longSystem} Be brief.`) };
    const u3 = (await client.messages.create(third)).usage;
    assert.equal(u3.cache_read_input_tokens, 0);
    assert.equal(u3.cache_creation_input_tokens, tokensOf(third));

    server.resetCache();
    const u4 = (await client.messages.create(second)).usage;
    assert.equal(u4.cache_read_input_tokens, 0, 'resetCache empties the cache');
  });

  it('never caches a prompt shorter than 1024 tokens', async () => {
    const body: MessageCreateParamsNonStreaming = {
      model: 'claude-test',
      max_tokens: 100,
      system: [{ type: 'text', text: 'short rules '.repeat(100), cache_control: cc }], // ~300 tokens
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: cc }] }],
    };
    assert.ok(tokensOf(body) < 1024);
    server.enqueue(textReply('one'), textReply('two'));
    for (let i = 0; i < 2; i++) {
      const { usage } = await client.messages.create(body);
      assert.deepEqual([usage.cache_read_input_tokens, usage.cache_creation_input_tokens, usage.input_tokens], [0, 0, tokensOf(body)]);
    }
  });
});

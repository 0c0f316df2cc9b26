// A real HTTP server on 127.0.0.1 that speaks the Anthropic Messages API (streaming SSE and plain JSON),
// answering each request with the next step a test queued. Real sockets, so the real SDK and separate
// processes (code-server, the CLI) can talk to it through ANTHROPIC_BASE_URL.
//
//   const server = await startScriptedServer();
//   server.enqueue(toolCall('bash', { command: 'ls' }), textReply('done'));
//   new Anthropic({ apiKey: 'test', baseURL: server.url });
//
// It validates requests like the real API (400 for an unanswered tool_use etc.), so a test that passes
// here proves the history we send is one the API accepts. An empty queue answers 500 "script exhausted"
// with `x-should-retry: false`, so a test that makes a request it did not script fails loudly and fast.
// With `contextLimit` it also refuses a prompt that does not fit (counted by scriptedTokens.ts) and
// reports usage from a simulated prompt cache (scriptedPromptCache.ts), so a test can see what a long
// conversation costs and when it overflows.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatSse, renderReply, toJsonMessage, toSseEvents, type RenderedReply } from './scriptedEvents';
import { PromptCache } from './scriptedPromptCache';
import { errorTypeForStatus, type ErrorStep, type MessagesBody, type RecordedRequest, type ReplyStep, type Step } from './scriptedSteps';
import { contextLimitError, countRequestTokens } from './scriptedTokens';
import { validateMessagesRequest } from './scriptedValidation';

export * from './scriptedSteps';
export { countCacheBreakpoints, validateMessagesRequest } from './scriptedValidation';
export { countRequestTokens, requestParts, type RequestPart } from './scriptedTokens';

export interface ScriptedServer {
  /** Base URL for the SDK's `baseURL` / ANTHROPIC_BASE_URL, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly port: number;
  /** Every request to /v1/messages, in arrival order (rejected ones included, with `rejected` set). */
  readonly requests: readonly RecordedRequest[];
  /** Requests that were answered with a scripted step (not rejected by validation or auth). */
  readonly accepted: readonly RecordedRequest[];
  /** Requests rejected with 400/401 by validation: a test usually asserts this stays empty. */
  readonly rejected: readonly RecordedRequest[];
  /** How many steps are still queued. */
  readonly pending: number;
  /** TCP connections accepted so far (a client that reuses keep-alive connections opens few). */
  readonly connections: number;
  enqueue(...steps: Step[]): void;
  /** Drops the steps still queued (spares a test queued for a number of calls it could not know). */
  clear(): void;
  /** Empties the simulated prompt cache (a bench compares two runs on one server). */
  resetCache(): void;
  /** Resolves once `n` requests have arrived (rejects after timeoutMs). */
  waitForRequests(n: number, timeoutMs?: number): Promise<readonly RecordedRequest[]>;
  /** Stops listening and cuts every open connection (stalled ones included). */
  close(): Promise<void>;
}

export interface ScriptedServerOptions {
  port?: number;
  /** Check the x-api-key header (default true). */
  requireApiKey?: boolean;
  /** Accept `POST /__script/enqueue` (JSON steps), `POST /__script/clear` and `GET /__script/requests`, for a server in another process. */
  controlEndpoints?: boolean;
  /** Context window in tokens: a longer prompt (or prompt + max_tokens) gets the API's 400, without using a step. */
  contextLimit?: number;
  /** Compute usage from a simulated prompt cache instead of the fixed 100 in / 20 out. Default: on with contextLimit. */
  promptCache?: boolean;
}

export async function startScriptedServer(options: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const queue: Step[] = [];
  const requests: RecordedRequest[] = [];
  const waiters = new Set<() => void>();
  const requireApiKey = options.requireApiKey ?? true;
  const cache = new PromptCache();
  const simulateCache = options.promptCache ?? options.contextLimit !== undefined;

  const notifyWaiters = (): void => {
    for (const w of [...waiters]) w();
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'api_error', `scripted server crashed: ${String(err)}`, { 'x-should-retry': 'false' });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '/').split('?')[0];

    if (options.controlEndpoints && path.startsWith('/__script/')) {
      handleControl(req.method ?? 'GET', path, raw, res);
      return;
    }
    if (req.method !== 'POST' || !/\/v1\/messages$/.test(path)) {
      sendError(res, 404, 'not_found_error', `scripted server: no route for ${req.method} ${path}`);
      return;
    }

    let body: MessagesBody | undefined;
    try {
      body = JSON.parse(raw) as MessagesBody;
    } catch {
      body = undefined;
    }
    const record: RecordedRequest = { index: requests.length, method: req.method, path, headers: { ...req.headers }, body, bytes: Buffer.byteLength(raw) };
    if (body !== undefined) record.tokens = countRequestTokens(body);
    requests.push(record);
    notifyWaiters();

    if (requireApiKey && !apiKeyOf(req)) {
      record.rejected = 'x-api-key header is required';
      sendError(res, 401, 'authentication_error', 'x-api-key header is required');
      return;
    }
    const invalid = body === undefined ? 'Request body is not valid JSON.' : validateMessagesRequest(body);
    if (invalid || body === undefined) {
      record.rejected = invalid;
      sendError(res, 400, 'invalid_request_error', invalid ?? '');
      return;
    }
    const tooLong = options.contextLimit === undefined ? undefined : contextLimitError(record.tokens ?? 0, Number(body.max_tokens), options.contextLimit);
    if (tooLong) {
      record.rejected = tooLong;
      record.tooLong = true;
      sendError(res, 400, 'invalid_request_error', tooLong);
      return;
    }

    let step = queue.shift();
    while (step?.kind === 'fn') step = await step.fn(record);
    if (!step) {
      sendError(res, 500, 'api_error', `scripted server: script exhausted (request #${record.index} arrived with no step queued)`, { 'x-should-retry': 'false' });
      return;
    }
    const model = typeof body.model === 'string' ? body.model : 'scripted-model';
    const streaming = body.stream === true;
    // Only a request that gets a reply reads and writes the cache, as with the API.
    const render = (s: ReplyStep): RenderedReply => renderReply(s, model, simulateCache ? cache.usageFor(body) : undefined);
    switch (step.kind) {
      case 'error':
        sendErrorStep(res, step);
        return;
      case 'stall':
        // Hold the request open; the client's abort (or close()) ends it.
        return;
      case 'reply':
        if (streaming) await streamReply(res, step, render(step), Infinity);
        else sendJson(res, 200, toJsonMessage(render(step)));
        return;
      case 'drop':
        await dropReply(res, step.reply, render(step.reply), step.afterEvents, streaming);
        return;
    }
  }

  function handleControl(method: string, path: string, raw: string, res: ServerResponse): void {
    if (method === 'POST' && path === '/__script/enqueue') {
      let parsed: Step[] | { steps?: Step[] };
      try {
        parsed = JSON.parse(raw) as Step[] | { steps?: Step[] };
      } catch {
        return sendJson(res, 400, { error: 'the body must be a JSON array of steps (or { "steps": [...] })' });
      }
      const steps = Array.isArray(parsed) ? parsed : parsed.steps;
      if (!Array.isArray(steps)) return sendJson(res, 400, { error: 'the body must be a JSON array of steps (or { "steps": [...] })' });
      queue.push(...steps);
      sendJson(res, 200, { queued: queue.length });
    } else if (method === 'POST' && path === '/__script/clear') {
      queue.length = 0;
      sendJson(res, 200, { queued: 0 });
    } else if (method === 'GET' && path === '/__script/requests') {
      sendJson(res, 200, requests);
    } else {
      sendJson(res, 404, { error: 'unknown control endpoint' });
    }
  }

  let connections = 0;
  server.on('connection', () => connections++);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get accepted() {
      return requests.filter((r) => !r.rejected);
    },
    get rejected() {
      return requests.filter((r) => r.rejected);
    },
    get pending() {
      return queue.length;
    },
    get connections() {
      return connections;
    },
    enqueue(...steps: Step[]) {
      queue.push(...steps);
    },
    clear() {
      queue.length = 0;
    },
    resetCache() {
      cache.reset();
    },
    waitForRequests(n: number, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve(requests);
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (requests.length >= n) {
            cleanup();
            resolve(requests);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`scripted server: expected ${n} requests within ${timeoutMs} ms, got ${requests.length}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** SDK 1.x sends the key as `Authorization: Bearer <key>`; older clients and curl use `x-api-key`. */
export function apiKeyOf(req: IncomingMessage): string | undefined {
  const direct = req.headers['x-api-key'];
  if (typeof direct === 'string' && direct !== '') return direct;
  const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return match?.[1];
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_scripted_${Date.now().toString(36)}`, ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { type: 'error', error: { type, message } }, headers);
}

function sendErrorStep(res: ServerResponse, step: ErrorStep): void {
  const type = step.errorType ?? errorTypeForStatus(step.status);
  sendError(res, step.status, type, step.message ?? `scripted ${type} (${step.status})`, step.headers ?? {});
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Writes the SSE events of a reply, stopping after `limit` events; returns how many it wrote. */
async function streamReply(res: ServerResponse, step: ReplyStep, rendered: RenderedReply, limit: number): Promise<number> {
  const events = toSseEvents(rendered, step);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': `req_scripted_${Date.now().toString(36)}` });
  let written = 0;
  for (const e of events) {
    if (written >= limit) break;
    if (step.delayMs) await sleep(step.delayMs);
    // The client went away (Stop pressed): stop writing, like the real API.
    if (res.destroyed || res.writableEnded) return written;
    res.write(formatSse(e));
    written++;
  }
  if (written === events.length) res.end();
  return written;
}

async function dropReply(res: ServerResponse, step: ReplyStep, rendered: RenderedReply, afterEvents: number, streaming: boolean): Promise<void> {
  if (streaming) {
    await streamReply(res, step, rendered, afterEvents);
  } else {
    const text = JSON.stringify(toJsonMessage(rendered));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
    res.write(text.slice(0, Math.floor(text.length / 2)));
  }
  // Let the written bytes leave before cutting the connection mid-response.
  await sleep(10);
  res.socket?.destroy();
}

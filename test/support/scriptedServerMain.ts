// Runs the scripted Anthropic server as its own process (for e2e runs, the CLI, benchmarks):
//   node out/test/support/scriptedServerMain.js [--script steps.json] [--port N] [--record requests.json] [--context-limit N]
// Prints its base URL as the first line of stdout. The script file is a JSON array of steps (or
// `{ "steps": [...] }`); more can be queued at run time with `POST /__script/enqueue`, and the recorded
// requests read with `GET /__script/requests`. SIGTERM/SIGINT close it (writing --record first).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startScriptedServer, type Step } from './scriptedServer';

const USAGE = `Usage: node out/test/support/scriptedServerMain.js [--script steps.json] [--port N] [--record requests.json] [--context-limit N] [--no-auth]

A local Anthropic-compatible Messages API that answers each request with the next scripted step
(streaming SSE or JSON), and refuses invalid histories with 400 the way the real API does.
Prints its base URL on the first line of stdout; point a client at it with ANTHROPIC_BASE_URL.

Options:
  --script FILE   JSON array of steps (or { "steps": [...] }) to answer with, in order, e.g.
                  [{"kind":"reply","content":[{"type":"tool_use","name":"bash","input":{"command":"ls"}}]},
                   {"kind":"reply","content":[{"type":"text","text":"Done."}]}]
                  Step kinds: reply {content, stopReason?, delayMs?}, error {status, message?, headers?},
                  drop {reply, afterEvents}, stall. With no step left a request gets 500.
  --port N        port on 127.0.0.1 (default: a free one)
  --record FILE   on SIGINT/SIGTERM, write every request received to FILE as JSON
  --no-auth       accept requests without an x-api-key (default: one is required, any value)
  --context-limit N
                  context window in tokens (about 4 bytes of block JSON each): a longer prompt, or
                  prompt + max_tokens, gets the API's 400 "prompt is too long"; usage then comes from a
                  simulated prompt cache (cache_control breakpoints, 1024-token minimum) instead of 100/20
  -h, --help      show this help

At run time: POST /__script/enqueue with a JSON array of steps adds steps, POST /__script/clear drops
the steps still queued; GET /__script/requests returns the requests so far.`;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { script: { type: 'string' }, port: { type: 'string' }, record: { type: 'string' }, 'context-limit': { type: 'string' }, 'no-auth': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const contextLimit = values['context-limit'] === undefined ? undefined : Number(values['context-limit']);
  if (contextLimit !== undefined && !(Number.isInteger(contextLimit) && contextLimit > 0)) {
    process.stderr.write(`--context-limit must be a positive integer, got ${values['context-limit']}\n\n${USAGE}\n`);
    process.exit(2);
  }
  const server = await startScriptedServer({
    port: values.port ? Number(values.port) : 0,
    controlEndpoints: true,
    requireApiKey: !values['no-auth'],
    contextLimit,
  });
  if (values.script) {
    const parsed = JSON.parse(readFileSync(values.script, 'utf8')) as Step[] | { steps: Step[] };
    server.enqueue(...(Array.isArray(parsed) ? parsed : parsed.steps));
  }
  process.stdout.write(`${server.url}\n`);

  const shutdown = (): void => {
    if (values.record) writeFileSync(values.record, JSON.stringify(server.requests, null, 2));
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  process.stderr.write(`scripted server failed to start: ${String(err)}\n`);
  process.exit(1);
});

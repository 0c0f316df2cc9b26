// Runs the scripted Anthropic server as its own process (for e2e runs, the CLI, benchmarks):
//   node out/test/support/scriptedServerMain.js [--script steps.json] [--port N] [--record requests.json]
// Prints its base URL as the first line of stdout. The script file is a JSON array of steps (or
// `{ "steps": [...] }`); more can be queued at run time with `POST /__script/enqueue`, and the recorded
// requests read with `GET /__script/requests`. SIGTERM/SIGINT close it (writing --record first).
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startScriptedServer, type Step } from './scriptedServer';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { script: { type: 'string' }, port: { type: 'string' }, record: { type: 'string' }, 'no-auth': { type: 'boolean' } },
  });
  const server = await startScriptedServer({
    port: values.port ? Number(values.port) : 0,
    controlEndpoints: true,
    requireApiKey: !values['no-auth'],
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

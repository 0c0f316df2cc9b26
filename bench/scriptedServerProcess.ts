// The scripted API in a process of its own, for benchmarks: its parsing and streaming do not count as
// ours (CPU, event-loop delays). A bench file serves it by running itself with --serve:
//   if (process.argv.includes('--serve')) void serveScripted(); else ...startServerProcess(__filename)...
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { startScriptedServer, type RecordedRequest, type Step } from '../test/support/scriptedServer';

export interface ServerProcess {
  readonly url: string;
  /** Replaces whatever steps are still queued (a scenario that stopped early leaves some). */
  script(steps: Step[]): Promise<void>;
  requests(): Promise<RecordedRequest[]>;
  kill(): void;
}

/** Serves until SIGTERM, printing its URL on the first line of stdout. */
export async function serveScripted(): Promise<void> {
  const server = await startScriptedServer({ controlEndpoints: true });
  process.stdout.write(`${server.url}\n`);
  process.once('SIGTERM', () => void server.close().then(() => process.exit(0)));
}

/** Runs `benchFile --serve` and resolves once it listens. */
export function startServerProcess(benchFile: string): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [benchFile, '--serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    child.once('exit', (code) => reject(new Error(`scripted server process exited early (${code})`)));
    lines.once('line', (line) => {
      const url = line.trim();
      resolve({
        url,
        async script(steps) {
          await fetch(`${url}/__script/clear`, { method: 'POST' });
          const response = await fetch(`${url}/__script/enqueue`, { method: 'POST', body: JSON.stringify(steps) });
          if (!response.ok) throw new Error(`enqueue failed: ${response.status} ${await response.text()}`);
        },
        async requests() {
          return (await (await fetch(`${url}/__script/requests`)).json()) as RecordedRequest[];
        },
        kill: () => child.kill('SIGTERM'),
      });
    });
  });
}

// Listening ports (src/core/tasks/listeningPorts.ts): what port discovery costs with 50 running tasks
// (45 `sleep`s and 5 Node servers, each under its own shell like a real task), at the idle interval and at
// the fast one (with and without the socket-count gate), as CPU of this process per second of wall time
// (the kernel's work reading /proc/net counts: it runs on this process's threads); and how soon a new
// server's port reaches onChange at the fast interval.
//   node out/bench/ports.bench.js   (or `npm run bench -- ports`)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PortScanner, type ListeningPort } from '../src/core/tasks/listeningPorts';
import { PortWatcher } from '../src/core/tasks/portWatcher';
import { percentile, runAsScript } from './table';
import type { BenchModule, BenchResult } from './types';

const TASKS = 50;
const SERVERS = 5;
const IDLE_SECONDS = 10;
const FAST_SECONDS = 5;
const LATENCY_RUNS = 30;

// Prints the epoch time (ms, fractional) at which it listened: comparable with ours.
const SERVER = `
const server = require('node:http').createServer();
server.listen(0, '127.0.0.1', () => console.log(performance.timeOrigin + performance.now()));
setInterval(() => {}, 1 << 30);
`;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Times every scan; `gate: false` makes every fast tick look in full (the counts are "unknown"). */
class TimedScanner extends PortScanner {
  gate = true;
  override socketCounts(): Promise<string | undefined> {
    return this.gate ? super.socketCounts() : Promise.resolve(undefined);
  }

  readonly durations: number[] = [];
  override async scan(roots: ReadonlyMap<string, number>): Promise<Map<string, ListeningPort[]>> {
    const started = performance.now();
    try {
      return await super.scan(roots);
    } finally {
      this.durations.push(performance.now() - started);
    }
  }
}

interface Tasks {
  start(id: string, command: string): ChildProcess;
  killAll(): void;
}

function tasks(roots: Map<string, number>): Tasks {
  const children = new Map<string, ChildProcess>();
  return {
    start(id, command) {
      // `; :` keeps the shell as the root (no exec of a lone last command), as in a real task.
      const child = spawn('/bin/sh', ['-c', `${command}; :`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
      children.set(id, child);
      roots.set(id, child.pid as number);
      return child;
    },
    killAll() {
      for (const [id, child] of children) {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // Already gone.
        }
        roots.delete(id);
      }
      children.clear();
    },
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
  });
}

/** CPU ms per wall second, scans, and wall ms per scan over `seconds`. */
async function measure(scanner: TimedScanner, seconds: number): Promise<{ cpuPerSecond: number; scans: number; meanMs: number; maxMs: number }> {
  const from = scanner.durations.length;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await sleep(seconds * 1000);
  const used = process.cpuUsage(cpu);
  const wall = (performance.now() - started) / 1000;
  const durations = scanner.durations.slice(from);
  const meanMs = durations.reduce((a, b) => a + b, 0) / Math.max(1, durations.length);
  return { cpuPerSecond: (used.user + used.system) / 1000 / wall, scans: durations.length, meanMs, maxMs: Math.max(0, ...durations) };
}

async function run(): Promise<BenchResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ba-bench-ports-'));
  const serverJs = path.join(dir, 'server.js');
  await writeFile(serverJs, SERVER);
  const roots = new Map<string, number>();
  const running = tasks(roots);
  const seen = new Map<string, number>();
  const scanner = new TimedScanner();
  const watcher = new PortWatcher({ roots: () => roots, onChange: (id, ports) => ports.length > 0 && seen.set(id, now()), scanner });
  const result: BenchResult = {};
  try {
    const servers: Array<Promise<string>> = [];
    for (let i = 0; i < TASKS; i++) {
      const child = running.start(`t${i}`, i < SERVERS ? `node ${serverJs}` : 'sleep 600');
      if (i < SERVERS) servers.push(firstLine(child));
    }
    await Promise.all(servers);
    const baseline = await measure(scanner, 3);
    result[`baseline: this process with ${TASKS} tasks, no watcher (CPU ms per s)`] = baseline.cpuPerSecond;
    watcher.refresh();
    while (seen.size < SERVERS) await sleep(20);
    const idle = await measure(scanner, IDLE_SECONDS);
    result[`idle interval (1 s), ${TASKS} tasks: CPU ms per s of wall time`] = idle.cpuPerSecond;
    result['idle interval: scans / wall ms per scan (mean / max)'] = `${idle.scans} / ${idle.meanMs.toFixed(2)} / ${idle.maxMs.toFixed(2)}`;
    const hurry = watcher.hurry();
    const fast = await measure(scanner, FAST_SECONDS);
    result[`fast interval (25 ms), ${TASKS} tasks: CPU ms per s of wall time`] = fast.cpuPerSecond;
    result['fast interval: full scans / wall ms per scan (mean / max)'] = `${fast.scans} / ${fast.meanMs.toFixed(2)} / ${fast.maxMs.toFixed(2)}`;
    scanner.gate = false;
    const ungated = await measure(scanner, FAST_SECONDS);
    scanner.gate = true;
    result['fast interval, every tick a full scan (no socket-count gate): CPU ms per s'] = ungated.cpuPerSecond;
    result['  full scans / wall ms per scan (mean / max)'] = `${ungated.scans} / ${ungated.meanMs.toFixed(2)} / ${ungated.maxMs.toFixed(2)}`;
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) {
      const id = `late${i}`;
      const listened = firstLine(running.start(id, `node ${serverJs}`));
      watcher.refresh();
      const listenedAt = Number(await listened);
      while (!seen.has(id)) await sleep(2);
      latencies.push((seen.get(id) as number) - listenedAt);
      process.kill(-(roots.get(id) as number), 'SIGKILL');
      roots.delete(id);
      watcher.refresh();
    }
    hurry.dispose();
    result[`port open -> onChange at the fast interval, p50 / p99 of ${LATENCY_RUNS}`] = `${percentile(latencies, 50).toFixed(1)} / ${percentile(latencies, 99).toFixed(1)} ms`;
    return result;
  } finally {
    watcher.dispose();
    running.killAll();
    await rm(dir, { recursive: true, force: true });
  }
}

export const portsBench: BenchModule = { name: 'listening ports: discovery cost with 50 tasks, latency', run };

if (require.main === module) runAsScript(portsBench);

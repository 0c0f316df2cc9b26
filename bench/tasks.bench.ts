// The background-task engine's speed and memory (issue 2, "Speed and memory"), measured side by side in
// one run against plain shell baselines:
// - flood: 1 GiB of output through BackgroundManager vs the same pipeline into `cat >/dev/null`
//   (spawned the same way: own session), wall time ratio and our RSS growth; and, for reference, the
//   pipeline redirected into a file in the log folder (what writing every byte to disk costs by itself);
//   and how much of the log stays on disk (the trimmer keeps it near maxLogBytes, 256 MiB by default);
// - 200 concurrent `sleep 1; echo x` tasks: time until all 200 notifications are queued, event-loop delay;
// - cancel of a tree with children and grandchildren: ms until every pid is gone;
// - notification latency: the child prints its exit time (`exec date +%s%N`), we take the queue time.
//   node --expose-gc out/bench/tasks.bench.js   (or through `npm run bench`)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { BackgroundManager } from '../src/core/tasks/backgroundManager';
import { DEFAULT_MAX_LOG_BYTES } from '../src/core/tasks/logTrimmer';
import { findMembers } from '../src/core/tasks/killPlan';
import { isDead, processTable } from '../src/core/tasks/processTable';
import type { TaskNotification } from '../src/core/tasks/types';
import { runAsScript } from './table';
import type { BenchModule, BenchResult } from './types';

const FLOOD = "head -c 1G /dev/zero | tr '\\0' x";
const FLOOD_ROUNDS = 3;
const CONCURRENT = 200;
const CANCEL_ROUNDS = 5;
const LATENCY_ROUNDS = 40;
const MiB = 1024 * 1024;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Peak RSS above the starting point while `work` runs, sampled every 10 ms. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; growthMiB: number; peakMiB: number }> {
  gc();
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 10);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, growthMiB: (peak - before) / MiB, peakMiB: peak / MiB };
  } finally {
    clearInterval(sampler);
  }
}

function runShell(command: string, detached: boolean): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: 'ignore', detached });
    child.once('error', reject);
    child.once('exit', () => resolve(performance.now() - started));
  });
}

/** Writes dirty pages out first, so that no timed run pays for the writeback of the one before it. */
function diskBytes(file: string): number {
  return (statSync(file, { throwIfNoEntry: false })?.blocks ?? 0) * 512;
}

function settleDisk(): void {
  spawnSync('sync');
}

async function flood(manager: BackgroundManager, dir: string): Promise<BenchResult> {
  const result: BenchResult = {};
  let baselineTotal = 0;
  let fileTotal = 0;
  let oursTotal = 0;
  let worstRss = 0;
  let worstDisk = 0;
  for (let round = 1; round <= FLOOD_ROUNDS; round++) {
    settleDisk();
    const baseline = await runShell(`${FLOOD} | cat >/dev/null`, true);
    // The floor for any design that keeps every byte: the same pipeline redirected into a file there.
    settleDisk();
    const rawFile = await runShell(`${FLOOD} > ${join(dir, 'raw-flood.log')}`, true);
    rmSync(join(dir, 'raw-flood.log'));
    settleDisk();
    let diskPeak = 0;
    const { value: ours, growthMiB, peakMiB } = await withPeakRss(async () => {
      const started = performance.now();
      const task = manager.start({ command: FLOOD, cwd: dir, origin: { kind: 'user' } });
      // What the log holds on disk (holes take none): the trimmer keeps it near the cap.
      const diskSampler = setInterval(() => (diskPeak = Math.max(diskPeak, diskBytes(task.logPath))), 20);
      const ended = await manager.waitForEnd(task.id).finally(() => clearInterval(diskSampler));
      diskPeak = Math.max(diskPeak, diskBytes(task.logPath));
      if (ended.outputBytes !== 1024 * MiB) throw new Error(`flood printed ${ended.outputBytes} bytes`);
      const wall = performance.now() - started;
      manager.remove(task.id);
      return wall;
    });
    result[`flood round ${round}: cat >/dev/null ms`] = Math.round(baseline);
    result[`flood round ${round}: > file (same folder) ms`] = Math.round(rawFile);
    result[`flood round ${round}: BackgroundManager ms`] = Math.round(ours);
    result[`flood round ${round}: ratio to cat / to > file`] = `${(ours / baseline).toFixed(2)} / ${(ours / rawFile).toFixed(2)}`;
    result[`flood round ${round}: RSS growth / peak MiB`] = `${growthMiB.toFixed(1)} / ${peakMiB.toFixed(0)}`;
    result[`flood round ${round}: log on disk, peak MiB (cap ${DEFAULT_MAX_LOG_BYTES / MiB})`] = Math.round(diskPeak / MiB);
    worstDisk = Math.max(worstDisk, diskPeak);
    baselineTotal += baseline;
    fileTotal += rawFile;
    oursTotal += ours;
    worstRss = Math.max(worstRss, growthMiB);
    await sleep(200); // let the removed 1 GiB log be deleted
  }
  const ratio = oursTotal / baselineTotal;
  result['flood ratio to cat (all rounds)'] = ratio;
  result['flood: > file alone, ratio to cat (the disk\'s share)'] = fileTotal / baselineTotal;
  result['flood target ≤ 1.5× and ≤ 64 MiB'] = verdict(ratio <= 1.5 && worstRss <= 64);
  // The cap plus what one 250 ms check lets through at this rate (~150 MiB at 600 MiB/s).
  result['flood log on disk ≤ cap + 256 MiB'] = verdict(worstDisk <= DEFAULT_MAX_LOG_BYTES + 256 * MiB);
  return result;
}

/**
 * 200 `sleep 1; echo x` tasks. `spread`: one start per event-loop turn, like tool calls that await in
 * between; otherwise all in one synchronous burst (the event loop is blocked for the whole burst, because
 * each spawn waits until the child has exec'd).
 */
async function concurrent(manager: BackgroundManager, dir: string, spread: boolean): Promise<BenchResult> {
  const label = `${CONCURRENT} tasks, ${spread ? 'one start per loop turn' : 'burst'}`;
  const conversationId = `bench-concurrent-${spread}`;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  let count = 0;
  let resolveAll: (t: number) => void = () => undefined;
  const allQueued = new Promise<number>((resolve) => (resolveAll = resolve));
  const sub = manager.notifications.onQueued((n) => {
    if (n.conversationId === conversationId && ++count === CONCURRENT) resolveAll(performance.now());
  });
  const { value, growthMiB } = await withPeakRss(async () => {
    delay.enable();
    const started = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < CONCURRENT; i++) {
      ids.push(manager.start({ command: 'sleep 1; echo x', cwd: dir, origin: { kind: 'agent', conversationId } }).id);
      if (spread) await new Promise((resolve) => setImmediate(resolve));
    }
    const startMs = performance.now() - started;
    const doneAt = await allQueued;
    delay.disable();
    await Promise.all(ids.map((id) => manager.waitForEnd(id)));
    return { startMs, allMs: doneAt - started, ids };
  });
  sub.dispose();
  const notifications = manager.notifications.drain(conversationId);
  const completed = notifications.filter((n) => n.status === 'completed' && n.outputTail === 'x\n').length;
  for (const id of value.ids) manager.remove(id);
  // A burst is one synchronous loop: the event loop is blocked for all of `startMs`, whatever the
  // histogram (which samples between ticks) says.
  const p99 = spread ? delay.percentile(99) / 1e6 : Math.max(delay.percentile(99) / 1e6, value.startMs);
  return {
    [`${label}: starting all ms${spread ? '' : ' (event loop blocked)'}`]: value.startMs,
    [`${label}: all notifications queued ms`]: Math.round(value.allMs),
    [`${label}: completed with output "x"`]: completed,
    [`${label}: event-loop delay p50 ms`]: delay.percentile(50) / 1e6,
    [`${label}: event-loop delay p99 ms (histogram)`]: delay.percentile(99) / 1e6,
    [`${label}: event-loop delay max ms`]: delay.max / 1e6,
    [`${label}: RSS growth MiB`]: growthMiB,
    [`${label}: target ≤ 1500 ms, p99 ≤ 20 ms`]: verdict(value.allMs <= 1500 && p99 <= 20),
  };
}

async function cancelTree(manager: BackgroundManager, dir: string): Promise<BenchResult> {
  // Children and grandchildren, one in its own session; nothing ignores SIGTERM.
  const command = 'sleep 300 & sh -c "sleep 300 & sleep 300 & wait" & sh -c "setsid sleep 300 & sh -c \\"sleep 300\\" & wait" & wait';
  const times: number[] = [];
  let processes = 0;
  for (let round = 0; round < CANCEL_ROUNDS; round++) {
    const task = manager.start({ command, cwd: dir, origin: { kind: 'user' } });
    let tree: number[] = [];
    for (let i = 0; i < 500 && tree.length < 9; i++) {
      await sleep(10);
      const pid = manager.get(task.id)?.pid; // the launcher reports it a moment after start
      if (pid !== undefined) tree = findMembers(processTable.readSync(), { roots: [pid], known: new Map([[pid, undefined]]), self: process.pid }).map((p) => p.pid);
    }
    if (tree.length < 9) throw new Error(`the tree to cancel has only ${tree.length} processes`);
    processes = tree.length;
    const started = performance.now();
    await manager.cancel(task.id);
    times.push(performance.now() - started);
    const survivors = tree.filter((pid) => !isDead(processTable.readOne(pid)));
    if (survivors.length > 0) throw new Error(`pids ${survivors.join(', ')} survived the cancel`);
    manager.remove(task.id);
  }
  return {
    'cancel: processes in the tree': processes,
    'cancel: until all gone, median ms': median(times),
    'cancel: until all gone, max ms': Math.max(...times),
    'cancel target ≤ 300 ms': verdict(Math.max(...times) <= 300),
  };
}

async function notificationLatency(manager: BackgroundManager, dir: string): Promise<BenchResult> {
  const conversationId = 'bench-latency';
  const latencies: number[] = [];
  for (let round = 0; round < LATENCY_ROUNDS; round++) {
    const queued = new Promise<{ n: TaskNotification; at: number }>((resolve) => {
      const sub = manager.notifications.onQueued((n) => {
        const at = performance.timeOrigin + performance.now();
        sub.dispose();
        resolve({ n, at });
      });
    });
    const task = manager.start({ command: 'exec date +%s%N', cwd: dir, origin: { kind: 'agent', conversationId } });
    const { n, at } = await queued;
    const printedMs = Number(BigInt(n.outputTail.trim()) / 1000n) / 1000;
    latencies.push(at - printedMs);
    manager.notifications.drain(conversationId);
    await manager.waitForEnd(task.id);
    manager.remove(task.id);
    await sleep(20);
  }
  return {
    'notification: exit → queued median ms': median(latencies),
    'notification: exit → queued p90 ms': percentile(latencies, 90),
    'notification: exit → queued max ms': Math.max(...latencies),
    'notification target median ≤ 5 ms': verdict(median(latencies) <= 5),
  };
}

export const tasksBench: BenchModule = {
  name: 'background tasks',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'ba-bench-tasks-'));
    const manager = new BackgroundManager({ logDir: join(dir, 'logs') });
    try {
      return {
        ...(await notificationLatency(manager, dir)),
        ...(await cancelTree(manager, dir)),
        ...(await concurrent(manager, dir, true)),
        ...(await concurrent(manager, dir, false)),
        ...(await flood(manager, dir)),
      };
    } finally {
      manager.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (require.main === module) runAsScript(tasksBench);

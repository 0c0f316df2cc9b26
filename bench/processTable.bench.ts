// The process table and tree kills on each source (src/core/tasks/processTable.ts, processTree.ts):
// /proc (Linux) and `ps` (the macOS path, run here on Linux's procps with the same options). How long one
// reading of the whole table takes, without and with the environments (the marker scan), and how long a
// cancel of 10 task trees takes until every process is verified gone: each tree is a shell with a child,
// a `setsid` grandchild and a double-forked daemon that only its marker finds.
//   node out/bench/processTable.bench.js   (or `npm run bench -- processTable`)
import { spawn } from 'node:child_process';
import { platformFor } from '../src/core/platform';
import { sourceFor, TASK_MARKER_ENV, type ProcessTableSource } from '../src/core/tasks/processTable';
import { membersNow, realKillSystem, terminateTrees, type KillSystem, type KillTarget } from '../src/core/tasks/processTree';
import { percentile, runAsScript } from './table';
import type { BenchModule, BenchResult } from './types';

const READS = 20;
const TREES = 10;
const RUNS = 3;

async function timed(work: () => Promise<unknown> | unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function readings(source: ProcessTableSource): Promise<{ size: number; read: number; readSync: number; marked: number }> {
  const read: number[] = [];
  const readSync: number[] = [];
  const marked: number[] = [];
  let size = 0;
  for (let i = 0; i < READS; i++) {
    read.push(await timed(async () => (size = (await source.read()).size)));
    readSync.push(await timed(() => source.readSync()));
    marked.push(await timed(() => source.marked(new Set(['aaaaaa.none']))));
  }
  return { size, read: percentile(read, 50), readSync: percentile(readSync, 50), marked: percentile(marked, 50) };
}

/** Starts the trees; resolves with their targets once every process of them runs. */
async function startTrees(run: number): Promise<KillTarget[]> {
  const targets: KillTarget[] = [];
  for (let i = 0; i < TREES; i++) {
    const marker = `bbbbbb.r${run}t${i}`;
    const script = 'sleep 300 & setsid sleep 300 & (setsid sleep 300 >/dev/null 2>&1 &); echo started; wait';
    const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, [TASK_MARKER_ENV]: marker } });
    await new Promise((resolve) => child.stdout?.once('data', resolve));
    child.stdout?.destroy();
    child.unref();
    targets.push({ pid: child.pid as number, marker, startedAt: Date.now() - 1000 });
  }
  return targets;
}

async function cancelTimes(system: KillSystem): Promise<{ cancel: number; left: number }> {
  const times: number[] = [];
  let left = 0;
  for (let run = 0; run < RUNS; run++) {
    const targets = await startTrees(run);
    times.push(await timed(() => terminateTrees(targets, 2000, undefined, system)));
    left += (await membersNow(targets, { ...system, platform: platformFor('linux', true), table: sourceFor('proc') })).length;
  }
  return { cancel: percentile(times, 50), left };
}

const processTableBench: BenchModule = {
  name: 'process table and tree kills: /proc and ps',
  async run(): Promise<BenchResult> {
    const result: BenchResult = {};
    for (const [kind, os] of [['proc', 'linux'], ['ps', 'darwin']] as const) {
      const table = sourceFor(kind);
      const read = await readings(table);
      result[`${kind}: processes in the table`] = read.size;
      result[`${kind}: one reading, async (ms, p50)`] = read.read;
      result[`${kind}: one reading, blocking (ms, p50)`] = read.readSync;
      result[`${kind}: marker scan (ms, p50)`] = read.marked;
      const system = realKillSystem(platformFor(os, kind === 'proc'), table);
      const cancel = await cancelTimes(system);
      result[`${kind}: cancel ${TREES} trees (40 processes) until verified gone (ms, p50 of ${RUNS})`] = cancel.cancel;
      result[`${kind}: processes left after the cancels`] = cancel.left;
    }
    return result;
  },
};

export default processTableBench;
if (require.main === module) runAsScript(processTableBench);

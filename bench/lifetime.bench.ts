// Task lifetimes (issue 10): how fast an owner's tasks die when the owner dies, and how fast the next owner
// of the same folder (the window after a reload) takes running tasks over.
// - owner death -> last process gone: the CLI (no grace) SIGKILLed with trees of `setsid sleep & sleep`;
//   an extension host with a 1 s grace, the time past the grace;
// - take-over: restore() of N running tasks in the next owner, and its start to ready;
// - the guard's memory (what lives on between two windows besides the tasks).
//   node out/bench/lifetime.bench.js   (or `npm run bench -- lifetime`)
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { OwnerProcess } from '../test/support/ownerProcess';
import { isAlive, readPid } from '../test/support/toolEnv';
import { runAsScript } from './table';
import type { BenchModule, BenchResult } from './types';

const OWNER = path.join(__dirname, 'lifetimeOwner.js');
const ROUNDS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function withFolder<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ba-bench-lifetime-'));
  try {
    return await body(dir);
  } finally {
    // The killed tasks' subshells may still be writing their exit files.
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}

/** Starts `count` trees (a setsid sleep and a plain one each); returns every pid. */
async function startTrees(owner: OwnerProcess, dir: string, count: number): Promise<number[]> {
  const pids: number[] = [];
  for (let i = 0; i < count; i++) {
    const [a, b] = [path.join(dir, `${i}-a.pid`), path.join(dir, `${i}-b.pid`)];
    const task = await owner.start(`setsid sleep 900 & echo $! > ${a}; sleep 901 & echo $! > ${b}; wait`);
    pids.push(task.pid as number, await readPid(a), await readPid(b));
  }
  return pids;
}

/** Milliseconds from `since` until none of `pids` runs (polled every 2 ms). */
async function goneAfter(pids: number[], since: number): Promise<number> {
  while (pids.some(isAlive)) await new Promise((resolve) => setTimeout(resolve, 2));
  return performance.now() - since;
}

async function deathToGone(trees: number, graceMs: number): Promise<number> {
  return withFolder(async (dir) => {
    const { owner } = await OwnerProcess.start(dir, graceMs, { script: OWNER });
    const pids = await startTrees(owner, dir, trees);
    const killedAt = performance.now();
    await owner.kill('SIGKILL');
    return (await goneAfter(pids, killedAt)) - graceMs;
  });
}

async function takeOver(count: number): Promise<{ restoreMs: number; readyMs: number; guardKb: number }> {
  return withFolder(async (dir) => {
    const { owner: first } = await OwnerProcess.start(dir, 30_000, { script: OWNER });
    const pids: number[] = [];
    for (let i = 0; i < count; i++) pids.push((await first.start(`sleep 900 # ${i}`)).pid as number);
    const guardKb = guardMemoryKb(dir);
    await first.kill('SIGKILL');
    const started = performance.now();
    // No grace for the second owner: killing it ends every task it took over (the first guard stood down).
    const { owner: second, restored, restoreMs } = await OwnerProcess.start(dir, 0, { script: OWNER });
    const readyMs = performance.now() - started;
    if (restored.filter((t) => t.status === 'running').length !== count) throw new Error('not every task was taken over');
    await second.kill('SIGKILL');
    await goneAfter(pids, performance.now());
    return { restoreMs, readyMs, guardKb };
  });
}

function guardMemoryKb(dir: string): number {
  const record = readdirSync(path.join(dir, 'hosts')).find((name) => name.endsWith('.json')) as string;
  const { guard } = JSON.parse(readFileSync(path.join(dir, 'hosts', record), 'utf8')) as { guard: { pid: number } };
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${guard.pid}/status`, 'utf8'))?.[1] ?? NaN);
}

async function run(): Promise<BenchResult> {
  const result: BenchResult = {};
  for (const trees of [1, 20]) {
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) times.push(await deathToGone(trees, 0));
    result[`CLI SIGKILLed, ${trees} tree(s) of 3 processes: last gone after (median / max of ${ROUNDS})`] = `${median(times).toFixed(0)} / ${Math.max(...times).toFixed(0)} ms`;
  }
  const past: number[] = [];
  for (let i = 0; i < 3; i++) past.push(await deathToGone(5, 1000));
  result['host SIGKILLed, 1 s grace, 5 trees: last gone after the grace (median of 3)'] = `${median(past).toFixed(0)} ms`;
  for (const count of [10, 50, 200]) {
    const { restoreMs, readyMs, guardKb } = await takeOver(count);
    result[`take over ${count} running tasks: restore() / next owner start to ready`] = `${restoreMs.toFixed(1)} / ${readyMs.toFixed(0)} ms`;
    if (count === 10) result['guard process memory (RSS)'] = `${guardKb} KB`;
  }
  return result;
}

export const lifetimeBench: BenchModule = { name: 'task lifetimes: owner death and take-over', run };

if (require.main === module) runAsScript(lifetimeBench);

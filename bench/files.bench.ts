// What holding the workspace boundary costs the file tools (issue 16), and what it buys:
// - per call (p50/p99): read_file, write_file and edit_file on a small file, beside the same work done the old
//   way (realpath check, then open by name; write in place), and each check on its own: resolving the path,
//   opening and verifying a file, walking to a folder 1 and 5 levels deep, the temp+rename write;
// - under attack: a folder swapped with a symlink to the outside (renameat2 RENAME_EXCHANGE in a loop, as the
//   review did): how many reads and writes escaped the old way, and through the tools.
//   node out/bench/files.bench.js   (or `npm run bench -- files`)
import { spawn } from 'node:child_process';
import { mkdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { replaceFile } from '../src/core/files/replaceFile';
import { openFileForReading, VerifiedFolder } from '../src/core/files/verifiedOpen';
import { isInside, resolveInWorkspace } from '../src/core/files/workspacePath';
import { executeTool } from '../src/core/tools';
import { createToolEnv, type ToolEnv } from '../test/support/toolEnv';
import { percentile, runAsScript } from './table';
import type { BenchModule, BenchResult } from './types';

const ROUNDS = 2000;
const RACE_ROUNDS = 3000;


async function timed(rounds: number, body: (i: number) => Promise<unknown>): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await body(i);
    times.push(performance.now() - t0);
  }
  return `${(percentile(times, 50) * 1000).toFixed(0)} / ${(percentile(times, 99) * 1000).toFixed(0)} µs`;
}

/** The old way: the path checked by realpath, then opened again by name. */
async function oldRead(env: ToolEnv, rel: string): Promise<string | undefined> {
  const real = await realpath(path.join(env.cwd, rel)).catch(() => undefined);
  if (!real || !isInside(env.cwd, real)) return undefined;
  return readFile(real, 'utf8').catch(() => undefined);
}

async function oldWrite(env: ToolEnv, rel: string, text: string): Promise<void> {
  const real = await realpath(path.join(env.cwd, rel)).catch(() => undefined);
  if (!real || !isInside(env.cwd, real)) return;
  await writeFile(real, text).catch(() => undefined);
}

async function run(): Promise<BenchResult> {
  const env = await createToolEnv();
  try {
    const ctx = env.ctx();
    await writeFile(path.join(env.cwd, 'small.ts'), 'export const answer = 41;\n'.repeat(40));
    await mkdir(path.join(env.cwd, 'a/b/c/d/e'), { recursive: true });
    const result: BenchResult = {};
    result['read_file, tool (p50 / p99)'] = await timed(ROUNDS, () => executeTool('read_file', { path: 'small.ts' }, ctx));
    result['read, old way (realpath + readFile)'] = await timed(ROUNDS, () => oldRead(env, 'small.ts'));
    result['write_file, tool'] = await timed(ROUNDS, (i) => executeTool('write_file', { path: 'a/b/out.txt', content: `write ${i}\n` }, ctx));
    result['write, old way (realpath + writeFile)'] = await timed(ROUNDS, (i) => oldWrite(env, 'a/b/out.txt', `write ${i}\n`));
    result['edit_file, tool'] = await timed(ROUNDS, (i) =>
      executeTool('edit_file', { path: 'small.ts', old_text: i % 2 ? 'const answer = 43' : 'const answer = 41;\n', new_text: i % 2 ? 'const answer = 41' : 'const answer = 43;\n' }, ctx),
    );
    result['  resolveInWorkspace'] = await timed(ROUNDS, () => resolveInWorkspace(env.cwd, 'small.ts'));
    result['  openFileForReading + close (top level)'] = await timed(ROUNDS, async () => {
      const { handle } = await openFileForReading(env.cwd, path.join(env.cwd, 'small.ts'), 'small.ts');
      await handle.close();
    });
    result['  folder walk, 1 level'] = await timed(ROUNDS, async () => (await VerifiedFolder.open(env.cwd, path.join(env.cwd, 'a'), { create: false, display: 'a' })).close());
    result['  folder walk, 5 levels'] = await timed(ROUNDS, async () => (await VerifiedFolder.open(env.cwd, path.join(env.cwd, 'a/b/c/d/e'), { create: false, display: 'e' })).close());
    result['  replaceFile (temp + rename), 5 levels'] = await timed(ROUNDS, (i) => replaceFile(env.cwd, path.join(env.cwd, 'a/b/c/d/e/f.txt'), `x${i}`, 'f.txt'));
    Object.assign(result, await race(env));
    return result;
  } finally {
    await env.dispose();
  }
}

/** The review's attack: reads and writes through `race/` while it is swapped with a link to the outside. */
async function race(env: ToolEnv): Promise<BenchResult> {
  const call = ({ x64: 316, arm64: 276 } as Partial<Record<string, number>>)[process.arch];
  if (call === undefined) return { 'race (renameat2)': `not run: no system call number for ${process.arch}` };
  await mkdir(path.join(env.cwd, 'race'));
  await writeFile(path.join(env.cwd, 'race', 'file.txt'), 'inside\n');
  await writeFile(path.join(env.outside, 'file.txt'), 'OUTSIDE\n');
  await symlink(env.outside, path.join(env.cwd, 'race-link'));
  const swap = `my ($a, $b) = ("race", "race-link"); $| = 1; print "ready\\n"; while (1) { syscall(${call}, -100, $a, -100, $b, 2) == 0 or die "renameat2: $!"; }`;
  const swapper = spawn('perl', ['-e', swap], { cwd: env.cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve) => swapper.stdout.once('data', resolve));
  const outsideWrites = () => readFile(path.join(env.outside, 'file.txt'), 'utf8').then((text) => (text === 'OUTSIDE\n' ? 0 : 1));
  try {
    const ctx = env.ctx();
    let oldReads = 0;
    let oldWrites = 0;
    let toolReads = 0;
    let toolWrites = 0;
    let toolReadsDone = 0;
    let toolWritesDone = 0;
    for (let i = 0; i < RACE_ROUNDS; i++) {
      if ((await oldRead(env, 'race/file.txt')) === 'OUTSIDE\n') oldReads++;
      await oldWrite(env, 'race/file.txt', `old ${i}\n`);
      if ((await outsideWrites()) > 0) {
        oldWrites++;
        await writeFile(path.join(env.outside, 'file.txt'), 'OUTSIDE\n');
      }
    }
    for (let i = 0; i < RACE_ROUNDS; i++) {
      const read = await executeTool('read_file', { path: 'race/file.txt' }, ctx);
      if (read.content.includes('OUTSIDE')) toolReads++;
      if (!read.isError) toolReadsDone++;
      const write = await executeTool('write_file', { path: 'race/file.txt', content: `tool ${i}\n` }, ctx);
      if (!write.isError) toolWritesDone++;
      toolWrites += await outsideWrites();
    }
    return {
      [`race: old way, reads outside (of ${RACE_ROUNDS})`]: oldReads,
      [`race: old way, writes outside (of ${RACE_ROUNDS})`]: oldWrites,
      [`race: tools, reads outside (of ${RACE_ROUNDS})`]: toolReads,
      [`race: tools, writes outside (of ${RACE_ROUNDS})`]: toolWrites,
      'race: tools, reads / writes done (rest refused)': `${toolReadsDone} / ${toolWritesDone}`,
    };
  } finally {
    swapper.kill('SIGKILL');
  }
}

export const filesBench: BenchModule = { name: 'file tools: the workspace boundary', run };

if (require.main === module) runAsScript(filesBench);

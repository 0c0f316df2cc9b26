// Long sessions (issue 12): one scripted session of 300 model calls with large tool outputs (files read,
// commands that print a lot, task logs read back) and 50 background tasks whose results arrive while it
// works, run three ways against the scripted API, which counts tokens, simulates the prompt cache and
// refuses a prompt over its limit exactly as the real API does:
// - managed, under a 30,000-token window (the session knows it: --context-window 30000);
// - unmanaged (the session believes it has 100M tokens) under an unlimited window: what it would cost;
// - told the wrong window (100M) under the real 30,000: the first refusal teaches it the window.
// Printed: requests refused, clearings, compactions, input tokens sent in all and the share read from the
// cache, the largest request, and what the input would bill at (cache reads 0.1×, cache writes 1.25×).
//   node --expose-gc out/bench/context.bench.js     (or `npm run bench -- context`)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createAgentSession } from '../src/core/agent/session';
import { BackgroundManager } from '../src/core/tasks/backgroundManager';
import { autoApproval } from '../test/support/approvals';
import { isSummaryCall } from '../test/support/agentHarness';
import { fnStep, startScriptedServer, textReply, toolCall } from '../test/support/scriptedServer';
import { runAsScript } from './table';
import type { BenchModule, BenchResult } from './types';

const WORK_CALLS = 300;
const TASKS = 50;
const WINDOW = 30_000;
const UNLIMITED = 100_000_000;

const TASK_EVERY = WORK_CALLS / TASKS;

/** The i-th work call's answer: a background task every TASK_EVERY calls, else something with a large result. */
function workStep(i: number, taskIds: () => string[]): ReturnType<typeof toolCall> {
  if (i === WORK_CALLS - 1) return textReply('All done: the files are read and every task has ended.');
  const shard = i / TASK_EVERY;
  if (i % TASK_EVERY === 0) return toolCall('background_run', { command: `sleep 0.${(i % 5) + 1}; seq 1 ${300 + i}`, description: `shard ${shard}` }, undefined, { text: `Starting shard ${shard}.` });
  switch (i % 3) {
    case 0: {
      const ids = taskIds();
      return ids.length > 0 ? toolCall('check_background', { task_id: ids[i % ids.length], offset: 0 }) : toolCall('read_file', { path: 'a.txt' });
    }
    case 1:
      return toolCall('read_file', { path: i % 2 ? 'a.txt' : 'b.txt' }, undefined, { text: `Looking at the sources again (${i}).` });
    default:
      return toolCall('bash', { command: `seq 1 ${1500 + i}` });
  }
}

async function session(serverLimit: number, sessionWindow: number, dir: string, name: string): Promise<BenchResult> {
  const server = await startScriptedServer({ contextLimit: serverLimit });
  const manager = new BackgroundManager({ logDir: join(dir, `${name}-logs`) });
  const agent = createAgentSession({
    conversationId: `bench-${name}`,
    cwd: dir,
    manager,
    approval: autoApproval(),
    model: 'claude-bench',
    maxTokens: 4096,
    apiKey: 'bench-key',
    baseURL: server.url,
    maxTurns: WORK_CALLS * 2,
    contextWindow: sessionWindow,
  });
  let work = 0;
  let compactions = 0;
  let cleared = 0;
  let errors = '';
  agent.onEvent((e) => {
    if (e.type === 'compaction_end' && e.outcome === 'compacted') compactions++;
    if (e.type === 'context_cleared') cleared++;
    if (e.type === 'error') errors ||= e.message.slice(0, 120);
  });
  server.enqueue(
    ...Array.from({ length: WORK_CALLS * 3 }, () =>
      fnStep((request) => {
        if (isSummaryCall(request)) return textReply(`Summary ${compactions + 1}: reading a.txt and b.txt, running shards; next: keep going.`);
        // Past the last work call only deliveries are left: acknowledge them.
        if (work >= WORK_CALLS) return textReply('Noted.');
        return workStep(work++, () => manager.list().map((t) => t.id));
      }),
    ),
  );
  const started = performance.now();
  try {
    await agent.send('Read the sources, run the shards in the background and check on them as you go.');
    await agent.whenSettled();
    const accepted = server.accepted;
    const sent = agent.totalUsage.inputTokens + agent.totalUsage.cacheReadTokens + agent.totalUsage.cacheCreationTokens;
    const billed = agent.totalUsage.inputTokens + 0.1 * agent.totalUsage.cacheReadTokens + 1.25 * agent.totalUsage.cacheCreationTokens;
    const prefix = `${name}:`;
    return {
      [`${prefix} work calls made / requests sent / refused as too long`]: `${work} / ${server.requests.length} / ${server.rejected.filter((r) => r.tooLong).length}`,
      [`${prefix} background tasks / clearings / compactions`]: `${manager.list().filter((t) => t.description?.startsWith('shard')).length} / ${cleared} / ${compactions}`,
      [`${prefix} input tokens sent (M)`]: sent / 1e6,
      [`${prefix} share read from the cache %`]: (100 * agent.totalUsage.cacheReadTokens) / Math.max(1, sent),
      [`${prefix} billed-equivalent input tokens (M)`]: billed / 1e6,
      [`${prefix} largest request (tokens)`]: Math.max(0, ...accepted.map((r) => r.tokens ?? 0)),
      [`${prefix} ended with`]: errors || 'end_turn',
      [`${prefix} wall time s`]: (performance.now() - started) / 1000,
    };
  } finally {
    agent.dispose();
    await manager.cancelAll();
    manager.dispose();
    await server.close();
  }
}

export const contextBench: BenchModule = {
  name: 'long sessions: 300 calls, 50 tasks, a 30k window',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'ba-bench-context-'));
    try {
      const line = (i: number): string => `${String(i).padStart(4)}  export function step${i}(input: number): number { return input * ${i} + 1; }`;
      writeFileSync(join(dir, 'a.txt'), Array.from({ length: 160 }, (_, i) => line(i)).join('\n'));
      writeFileSync(join(dir, 'b.txt'), Array.from({ length: 240 }, (_, i) => line(i + 1000)).join('\n'));
      return {
        ...(await session(WINDOW, WINDOW, dir, 'managed, 30k window')),
        ...(await session(UNLIMITED, UNLIMITED, dir, 'unmanaged, unlimited window')),
        ...(await session(WINDOW, UNLIMITED, dir, 'told 100M, really 30k')),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (require.main === module) runAsScript(contextBench);

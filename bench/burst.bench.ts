// Bursts of finished tasks (issue 14): what delivering their results costs. The model (the scripted API,
// in its own process, answering at once) starts N background tasks in one message (`sleep 1; echo out-i`)
// and then only acknowledges; the session runs with the CLI's defaults (turn limit 50, auto-resume) and,
// like `-p`, the run ends at the first turn that ends other than normally. Measured:
// - model calls after the one that started the tasks, bytes sent, results delivered or left behind;
// - from the last task's end (the manager's `ended` event) to the call that carries its result;
// - how the ends are spread (the gaps the coalescing window must bridge);
// - a lone task: from its end to the call that carries it, idle and with another task of the conversation
//   still running (the case where the window applies).
//   node --expose-gc out/bench/burst.bench.js     (or `npm run bench -- burst`)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_TURNS } from '../src/core/agent/agentSession';
import { createAgentSession } from '../src/core/agent/session';
import type { AgentSession } from '../src/core/agent/types';
import { BackgroundManager } from '../src/core/tasks/backgroundManager';
import { autoApproval } from '../test/support/approvals';
import { textReply, toolCall, toolCalls, type Step } from '../test/support/scriptedServer';
import { serveScripted, startServerProcess, type ServerProcess } from './scriptedServerProcess';
import { percentile, runAsScript } from './table';
import type { BenchModule, BenchResult } from './types';

const CONVERSATION = 'bench-burst';
const LONE_ROUNDS = 7;

interface Run {
  session: AgentSession;
  manager: BackgroundManager;
  /** performance.now() of each task's end, by id. */
  endedAt: Map<string, number>;
  /** performance.now() of each request, with the ids whose results it carries. */
  calls: Array<{ at: number; delivered: string[] }>;
  failure?: string;
  dispose(): Promise<void>;
}

function startRun(server: ServerProcess, dir: string, name: string): Run {
  const manager = new BackgroundManager({ logDir: join(dir, `${name}-logs`) });
  const session = createAgentSession({
    conversationId: CONVERSATION,
    cwd: dir,
    manager,
    approval: autoApproval(),
    model: 'claude-bench',
    maxTokens: 1024,
    apiKey: 'bench-key',
    baseURL: server.url,
    maxTurns: DEFAULT_MAX_TURNS,
  });
  const run: Run = {
    session,
    manager,
    endedAt: new Map(),
    calls: [],
    async dispose() {
      session.dispose();
      await manager.cancelAll();
      manager.dispose();
    },
  };
  let delivered: string[] = [];
  manager.onEvent((e) => {
    if (e.type === 'ended') run.endedAt.set(e.task.id, performance.now());
  });
  session.onEvent((e) => {
    if (e.type === 'notifications_delivered') delivered = e.taskIds;
    if (e.type === 'request_start') {
      run.calls.push({ at: performance.now(), delivered });
      delivered = [];
    }
    if (e.type === 'error') run.failure ??= e.message;
  });
  return run;
}

/** Like `-p`: send, then wait until settled, giving up at the first turn that does not end normally. */
async function sendAndSettle(run: Run, text: string): Promise<void> {
  const failed = new AbortController();
  const watch = run.session.onEvent((e) => {
    if (e.type === 'turn_end' && e.reason !== 'end_turn') failed.abort();
  });
  try {
    await run.session.send(text);
    if (!failed.signal.aborted) await run.session.whenSettled(failed.signal).catch(() => undefined);
  } finally {
    watch.dispose();
  }
}

/** ms from a task's end to the first call that carries its result (NaN if none did). */
function endToCall(run: Run, taskId: string): number {
  const call = run.calls.find((c) => c.delivered.includes(taskId));
  const end = run.endedAt.get(taskId);
  return call && end !== undefined ? call.at - end : NaN;
}

async function burst(server: ServerProcess, dir: string, tasks: number): Promise<BenchResult> {
  const calls = Array.from({ length: tasks }, (_, i) => ({ name: 'background_run', input: { command: `sleep 1; echo out-${i}` } }));
  // One acknowledgement per possible call: the script never runs out, however many calls are made.
  const steps: Step[] = [toolCalls(calls), ...Array.from({ length: tasks + 10 }, () => textReply('Noted.'))];
  await server.script(steps);
  const before = (await server.requests()).length;
  const run = startRun(server, dir, `burst${tasks}`);
  try {
    await sendAndSettle(run, `Run ${tasks} tasks.`);
    const requests = (await server.requests()).slice(before);
    const ends = [...run.endedAt.values()].sort((a, b) => a - b);
    const gaps = ends.slice(1).map((t, i) => t - ends[i]);
    const lastTask = [...run.endedAt.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    const deliveredIds = new Set(run.calls.flatMap((c) => c.delivered));
    const p = `${tasks} tasks:`;
    return {
      [`${p} model calls after the start`]: requests.length - 1,
      [`${p} blocks of results`]: run.calls.filter((c) => c.delivered.length > 0).length,
      [`${p} MB sent (all calls)`]: requests.reduce((sum, r) => sum + r.bytes, 0) / 1e6,
      [`${p} largest request KB`]: Math.max(...requests.map((r) => r.bytes)) / 1e3,
      [`${p} results delivered`]: deliveredIds.size,
      [`${p} results not delivered`]: tasks - deliveredIds.size,
      [`${p} turn ended by`]: run.failure ?? 'end_turn',
      [`${p} ends spread over ms`]: ends.length > 1 ? ends.at(-1)! - ends[0] : 0,
      [`${p} gap between ends p50/p99/max ms`]: `${percentile(gaps, 50).toFixed(1)} / ${percentile(gaps, 99).toFixed(1)} / ${Math.max(...gaps).toFixed(1)}`,
      [`${p} last end → call ms`]: endToCall(run, lastTask),
    };
  } finally {
    await run.dispose();
  }
}

/** One task ends alone: ms from its end to the call that carries it, over LONE_ROUNDS rounds. */
async function lone(server: ServerProcess, dir: string, withOtherRunning: boolean): Promise<number[]> {
  const latencies: number[] = [];
  for (let round = 0; round < LONE_ROUNDS; round++) {
    const run = startRun(server, dir, `lone${round}${withOtherRunning ? 'x' : ''}`);
    try {
      const other = withOtherRunning ? run.manager.start({ command: 'sleep 600', cwd: dir, origin: { kind: 'agent', conversationId: CONVERSATION } }) : undefined;
      await server.script([toolCall('background_run', { command: `sleep 0.3; echo lone-${round}` }), textReply('Started.'), textReply('It printed its line.'), textReply('The other one was cancelled.')]);
      await run.session.send("Run one task.");
      if (run.failure) throw new Error(run.failure);
      const [task] = run.manager.list().filter((t) => t.id !== other?.id);
      await run.manager.waitForEnd(task.id);
      for (let waited = 0; !run.calls.some((c) => c.delivered.includes(task.id)); waited += 20) {
        if (waited > 30_000) throw new Error(`the result of ${task.id} was not delivered within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      latencies.push(endToCall(run, task.id));
      if (other) await run.manager.cancel(other.id);
      await run.session.whenSettled();
      if (run.failure) throw new Error(run.failure);
    } finally {
      await run.dispose();
    }
  }
  return latencies;
}

export const burstBench: BenchModule = {
  name: 'bursts of finished tasks',
  async run() {
    const server = await startServerProcess(__filename);
    const dir = mkdtempSync(join(tmpdir(), 'ba-bench-burst-'));
    try {
      const alone = await lone(server, dir, false);
      const beside = await lone(server, dir, true);
      const stats = (values: number[]): string => `${percentile(values, 50).toFixed(1)} / ${Math.max(...values).toFixed(1)}`;
      return {
        ...(await burst(server, dir, 500)),
        ...(await burst(server, dir, 200)),
        [`lone task, nothing else running: end → call p50/max ms (${LONE_ROUNDS} runs)`]: stats(alone),
        [`lone task, another task running: end → call p50/max ms (${LONE_ROUNDS} runs)`]: stats(beside),
      };
    } finally {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (require.main === module) {
  if (process.argv.includes('--serve')) void serveScripted();
  else runAsScript(burstBench);
}

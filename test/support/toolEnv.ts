// A real BackgroundManager over a temporary workspace, for tool tests. Everything it creates is removed and
// every process it started is killed in dispose(), also when a test fails.
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BackgroundManager } from '../../src/core/tasks/backgroundManager';
import type { SpawnMode } from '../../src/core/tasks/types';
import type { ApprovalGate } from '../../src/core/approval/approvalGate';
import type { ToolContext } from '../../src/core/tools';
import { autoApproval } from './approvals';

export interface ToolEnv {
  /** Real path of the temporary workspace. */
  readonly cwd: string;
  /** A folder next to the workspace, outside it (for escape tests). */
  readonly outside: string;
  readonly manager: BackgroundManager;
  readonly conversationId: string;
  /** A tool context; approval defaults to `auto` (everything runs). */
  ctx(signal?: AbortSignal, approval?: ApprovalGate): ToolContext;
  dispose(): Promise<void>;
}

export async function createToolEnv(options: { spawnMode?: SpawnMode; matchBatchMs?: number } = {}): Promise<ToolEnv> {
  const root = await realpath(await mkdtemp(path.join(tmpdir(), 'ba-tools-')));
  const cwd = path.join(root, 'workspace');
  const outside = path.join(root, 'outside');
  await mkdir(cwd);
  await mkdir(outside);
  const manager = new BackgroundManager({ logDir: path.join(root, 'logs'), spawnMode: options.spawnMode, matchBatchMs: options.matchBatchMs });
  const conversationId = 'conv-test';
  return {
    cwd,
    outside,
    manager,
    conversationId,
    ctx: (signal = new AbortController().signal, approval = autoApproval()) => ({ cwd, manager, conversationId, signal, approval }),
    async dispose() {
      await manager.cancelAll();
      manager.dispose();
      await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** True while the process exists and is not a zombie waiting to be reaped (PID 1 in containers may never reap). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Polls until `check` is true; the deadline only guards against a hang, it is not a timing assertion. */
export async function until(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export async function readPid(file: string): Promise<number> {
  let pid = NaN;
  await until(async () => {
    pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    return Number.isInteger(pid) && pid > 0;
  }, `a pid in ${file}`);
  return pid;
}

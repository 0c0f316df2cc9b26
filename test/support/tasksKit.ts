// A real BackgroundManager over a temporary folder for the engine's own tests. dispose() kills every
// process the manager started and deletes the folder, also when a test fails.
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BackgroundManager, type BackgroundManagerOptions } from '../../src/core/tasks/backgroundManager';
import type { StartTaskOptions } from '../../src/core/tasks/types';

import { until } from './toolEnv';

export { isAlive, readPid, until } from './toolEnv';

/** Every spawn mode the manager has: each behaviour the user relies on is tested in both. */
export const SPAWN_MODES = ['auto', 'direct'] as const;

/**
 * Runs `body` with these variables set in process.env (undefined removes one), then puts back what was
 * there. Tests whose result depends on the machine's `$SHELL` pin it: CI starts without one.
 */
export async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T> | T): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}

/** The task's pid once known (through the launcher it arrives a moment after start). */
export async function pidOf(manager: BackgroundManager, taskId: string): Promise<number> {
  await until(() => manager.get(taskId)?.pid !== undefined, `task ${taskId} to have a pid`);
  return manager.get(taskId)?.pid as number;
}

export interface TasksEnv {
  readonly dir: string;
  readonly logDir: string;
  readonly manager: BackgroundManager;
  readonly conversationId: string;
  /** start() with cwd = the temp folder and an agent origin unless given. */
  start(command: string, extra?: Partial<StartTaskOptions>): ReturnType<BackgroundManager['start']>;
  dispose(): Promise<void>;
}

export async function createTasksEnv(options: Partial<BackgroundManagerOptions> = {}): Promise<TasksEnv> {
  const dir = await realpath(await mkdtemp(path.join(tmpdir(), 'ba-tasks-')));
  const logDir = path.join(dir, 'logs');
  const manager = new BackgroundManager({ logDir, ...options });
  const conversationId = 'conv-tasks';
  return {
    dir,
    logDir,
    manager,
    conversationId,
    start: (command, extra = {}) => manager.start({ command, cwd: dir, origin: { kind: 'agent', conversationId }, ...extra }),
    async dispose() {
      manager.dispose();
      await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

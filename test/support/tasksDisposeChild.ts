// Run as a child process by tasks-kill.test.ts: starts a tree of tasks, prints their pids, then disposes
// the manager and exits immediately, the way the CLI and extension deactivation do.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { BackgroundManager } from '../../src/core/tasks/backgroundManager';

async function readPid(file: string): Promise<number> {
  for (;;) {
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (Number.isInteger(pid) && pid > 0) return pid;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  const manager = new BackgroundManager({ logDir: path.join(dir, 'child-logs') });
  const f = (name: string) => path.join(dir, `dispose-${name}.pid`);
  const a = manager.start({ command: `sleep 300 & echo $! > ${f('a')}; setsid sleep 300 & echo $! > ${f('b')}; wait`, cwd: dir, origin: { kind: 'user' } });
  const b = manager.start({ command: `(setsid sleep 300 > /dev/null 2>&1 & echo $! > ${f('c')}); trap '' TERM; sleep 300`, cwd: dir, origin: { kind: 'user' } });
  const c = manager.start({ command: `nohup sleep 300 > /dev/null 2>&1 & echo $! > ${f('d')}; echo finished`, cwd: dir, origin: { kind: 'user' } });
  const descendants = await Promise.all(['a', 'b', 'c', 'd'].map((n) => readPid(f(n))));
  // The shells' pids are known a moment after start() returned (the launcher reports them).
  while (manager.get(a.id)?.pid === undefined || manager.get(b.id)?.pid === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
  const pids = [manager.get(a.id)?.pid, manager.get(b.id)?.pid, ...descendants];
  await manager.waitForEnd(c.id);
  process.stdout.write(`${pids.join(' ')}\n`);
  manager.dispose();
  process.exit(0);
}

void main();

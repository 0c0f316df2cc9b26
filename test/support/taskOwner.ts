// Run as a child process by tasks-lifetime.test.ts and bench/lifetime.bench.ts: one owner of background
// tasks (the CLI or an extension host), so tests can kill it the way owners die (SIGKILL included) and
// start the next one on the same log folder, the way a window reloads.
//   argv: <logDir> <reattachGraceMs> <stateFile> [auto|direct]
// Like the extension, it restores what the state file holds at start and saves the task list there on every
// event. It reads one JSON command per line on stdin and answers with JSON lines on stdout:
//   {"start": {"command", "conversationId"?, "timeoutMs"?}}  -> {"started": snapshot}
//   {"findable": id}                            -> {"findable": snapshot} once a later owner could take it over
//   {"cancel": id}                              -> {"cancelled": snapshot} once its tree is gone
//   {"dispose": true}                           -> {"disposed": true}, then it exits
//   {"release": true}                           -> {"released": true}: disposed, but the process lives on
// and on its own: {"ready": [snapshots], "restoreMs"}, {"ended": snapshot}, {"notified": notification}.
import './pretendDarwinWhenAsked';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { BackgroundManager } from '../../src/core/tasks/backgroundManager';
import type { TaskSnapshot } from '../../src/core/tasks/types';

const [logDir, graceText, stateFile, spawnMode] = process.argv.slice(2);
const manager = new BackgroundManager({ logDir, reattachGraceMs: Number(graceText), killGraceMs: 500, spawnMode: spawnMode === 'direct' ? 'direct' : 'auto' });
const say = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);
const save = (): void => writeFileSync(stateFile, JSON.stringify(manager.list()));

const previous = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as TaskSnapshot[]) : [];
const restoreStarted = performance.now();
manager.restore(previous);
const restoreMs = performance.now() - restoreStarted;
manager.onEvent((event) => {
  save();
  if (event.type === 'ended') say({ ended: event.task });
});
manager.notifications.onQueued((notification) => say({ notified: notification }));
save();
say({ ready: manager.list(), restoreMs });

async function findable(id: string): Promise<TaskSnapshot | undefined> {
  for (;;) {
    const task = manager.get(id);
    if (!task || task.status !== 'running' || task.reattach) return task;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as {
    start?: { command: string; conversationId?: string; timeoutMs?: number };
    findable?: string;
    cancel?: string;
    dispose?: boolean;
    release?: boolean;
  };
  if (command.start) {
    const { command: text, conversationId, timeoutMs } = command.start;
    const origin = conversationId ? ({ kind: 'agent', conversationId } as const) : ({ kind: 'user' } as const);
    say({ started: manager.start({ command: text, cwd: logDir, origin, timeoutMs }) });
  } else if (command.findable) {
    void findable(command.findable).then((task) => say({ findable: task }));
  } else if (command.cancel) {
    void manager.cancel(command.cancel).then((task) => say({ cancelled: task }));
  } else if (command.release) {
    manager.dispose();
    save();
    say({ released: true });
  } else if (command.dispose) {
    manager.dispose();
    save();
    say({ disposed: true });
    process.exit(0);
  }
});

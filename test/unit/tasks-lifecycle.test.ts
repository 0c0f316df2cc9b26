// BackgroundManager with real processes: statuses, exit codes, output to log and memory, stdin, env,
// spawn errors, events, waitForEnd, remove, restore. The lifecycle runs in both spawn modes: through the
// shell launcher (the default on Linux) and spawned from Node (the fallback elsewhere).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { BackgroundManager, UnknownTaskError } from '../../src/core/tasks/backgroundManager';
import type { TaskEvent } from '../../src/core/tasks/types';
import type { SpawnMode } from '../../src/core/tasks/types';
import { createTasksEnv, isAlive, pidOf, SPAWN_MODES, until, withEnv, type TasksEnv } from '../support/tasksKit';

let env: TasksEnv;
let spawnMode: SpawnMode = 'auto';
beforeEach(async () => {
  env = await createTasksEnv({ spawnMode });
});
afterEach(() => env.dispose());

for (const mode of SPAWN_MODES) describe(`task lifecycle (${mode} spawn)`, () => {
  before(() => (spawnMode = mode));
  after(() => (spawnMode = 'auto'));

  it('exit 0 is completed, with pid, times, output size and a log file', async () => {
    const events: TaskEvent[] = [];
    env.manager.onEvent((e) => events.push(e));
    const started = env.start('echo hello');
    assert.equal(started.status, 'running');
    assert.match(started.id, /^[2-9a-z]{8}$/);
    const ended = await env.manager.waitForEnd(started.id);
    assert.ok(ended.pid && ended.pid > 0);
    // Whoever shows pids learns it: at once, or from an event if it arrived after start() returned.
    assert.ok(started.pid === ended.pid || events.some((e) => e.type === 'output' && e.task.pid === ended.pid));
    assert.equal(ended.status, 'completed');
    assert.equal(ended.exitCode, 0);
    assert.equal(ended.signal, null);
    assert.equal(ended.outputBytes, 6);
    assert.ok(ended.endedAt !== undefined && ended.endedAt >= ended.startedAt);
    assert.equal(path.dirname(ended.logPath), env.logDir);
    assert.equal(readFileSync(ended.logPath, 'utf8'), 'hello\n');
  });

  it('a non-zero exit is failed and keeps the exit code', async () => {
    const ended = await env.manager.waitForEnd(env.start('echo bad >&2; exit 3').id);
    assert.equal(ended.status, 'failed');
    assert.equal(ended.exitCode, 3);
    assert.equal(env.manager.outputPreview(ended.id), 'bad\n');
  });

  it('interleaves stdout and stderr in the order they were written, in the log and in memory', async () => {
    const script = 'for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done';
    const ended = await env.manager.waitForEnd(env.start(script).id);
    const expected = [1, 2, 3, 4, 5].map((i) => `out${i}\nerr${i}\n`).join('');
    assert.equal(readFileSync(ended.logPath, 'utf8'), expected);
    assert.equal(env.manager.outputPreview(ended.id), expected);
    assert.equal((await env.manager.readOutput(ended.id)).text, expected);
  });

  it('runs in the user shell with stdin at EOF: a command that reads input ends at once', async () => {
    const ended = await env.manager.waitForEnd(env.start('read x; echo "got:[$x]"; cat; echo after-cat').id);
    assert.equal(ended.status, 'completed');
    assert.equal(env.manager.outputPreview(ended.id), 'got:[]\nafter-cat\n');
  });

  it('inherits the environment and adds options.env, in the given cwd', async () => {
    await withEnv({ BA_TEST_INHERITED: 'inherited' }, async () => {
      const ended = await env.manager.waitForEnd(env.start('echo "$BA_TEST_INHERITED $BA_TEST_EXTRA $(pwd)"', { env: { BA_TEST_EXTRA: 'extra' } }).id);
      assert.equal(env.manager.outputPreview(ended.id), `inherited extra ${env.dir}\n`);
    });
  });

  it('inherits variables whose names /bin/sh cannot hold (dash drops those from its own environment)', async () => {
    // The user's shell must be one that passes such names on (bash does, dash does not): pinned, because
    // CI starts without $SHELL and root's login shell could be anything.
    await withEnv({ SHELL: '/bin/bash', 'BA-TEST-ODD.NAME': 'odd' }, async () => {
      const ended = await env.manager.waitForEnd(env.start('env | grep "^BA-TEST-ODD"').id);
      assert.equal(env.manager.outputPreview(ended.id), 'BA-TEST-ODD.NAME=odd\n');
    });
  });

  it('runs commands in $SHELL, or without one in the login shell from the password database', async () => {
    await withEnv({ SHELL: '/bin/bash' }, async () => {
      const ended = await env.manager.waitForEnd(env.start('echo "$BASH_VERSION" | cut -c1').id);
      assert.match(env.manager.outputPreview(ended.id), /^\d\n$/, 'bash ran it');
    });
    await withEnv({ SHELL: undefined }, async () => {
      // `; exit 0`: a shell execs a lone last command in place, and `$$` would then be readlink's own pid.
      const ended = await env.manager.waitForEnd(env.start('readlink /proc/$$/exe; exit 0').id);
      const login = realpathSync(userInfo().shell ?? '/bin/sh');
      assert.equal(env.manager.outputPreview(ended.id), `${login}\n`);
    });
  });

  it('a missing working directory gives a failed snapshot at once, never a throw', async () => {
    const snapshot = env.start('echo never', { cwd: path.join(env.dir, 'missing') });
    assert.equal(snapshot.status, 'failed');
    assert.match(snapshot.error ?? '', /working directory does not exist/);
    assert.equal((await env.manager.waitForEnd(snapshot.id)).status, 'failed');
    assert.match(env.manager.outputPreview(snapshot.id), /Could not start the command/);
    const [notification] = env.manager.notifications.drain(env.conversationId);
    assert.equal(notification.status, 'failed');
  });

  it('a command the OS refuses to spawn (NUL byte) ends failed instead of throwing', async () => {
    const snapshot = env.start('echo a\0b');
    const ended = await env.manager.waitForEnd(snapshot.id);
    assert.equal(ended.status, 'failed');
    assert.ok(ended.error && ended.error.length > 0);
    assert.equal(env.manager.notifications.pendingCount(env.conversationId), 1);
  });

  it('a task ends when its shell exits, even if a background grandchild keeps the pipe open', async () => {
    const ended = await env.manager.waitForEnd(env.start('sleep 30 & echo parent-done').id);
    assert.equal(ended.status, 'completed');
    assert.equal(env.manager.outputPreview(ended.id), 'parent-done\n');
  });

  it('also when the grandchild holding the pipe started its own session', async () => {
    const ended = await env.manager.waitForEnd(env.start('setsid sleep 30 & echo parent-done').id);
    assert.equal(ended.status, 'completed');
  });

  if (mode === 'auto') it('a burst of starts through the launcher returns at once: pids come in output events, every task runs and ends', async () => {
    const events: TaskEvent[] = [];
    env.manager.onEvent((e) => events.push(e));
    const burst = Array.from({ length: 60 }, (_, i) => env.start(`echo burst-${i}`));
    assert.ok(burst.every((t) => t.status === 'running' && t.pid === undefined), 'nothing was forked by Node');
    const ended = await Promise.all(burst.map((t) => env.manager.waitForEnd(t.id)));
    ended.forEach((t, i) => {
      assert.equal(t.status, 'completed');
      assert.equal(env.manager.outputPreview(t.id), `burst-${i}\n`);
      assert.ok(events.some((e) => e.type === 'output' && e.task.id === t.id && e.task.pid === t.pid && t.pid !== undefined));
    });
  });

  if (mode === 'auto') it('tasks cancelled while the launcher is still starting them are killed, and nothing else is', async () => {
    const bystander = env.start('sleep 300');
    // In a turn of its own: that start also spawned the launcher, and a start later in the same turn would
    // wait for the next one (the spawn budget), be cancelled before its spawn and rightly have no pid.
    await pidOf(env.manager, bystander.id);
    // Cancelled at once: the pid arrives while the process may not have left the launcher's group yet.
    for (let i = 0; i < 20; i++) {
      const cancelled = await env.manager.cancel(env.start('sleep 300').id);
      assert.equal(cancelled.status, 'cancelled');
      assert.ok(cancelled.pid !== undefined);
      assert.equal(isAlive(cancelled.pid), false);
    }
    assert.equal(env.manager.get(bystander.id)?.status, 'running', env.manager.get(bystander.id)?.error);
    const later = await env.manager.waitForEnd(env.start('echo still-works').id);
    assert.equal(env.manager.outputPreview(later.id), 'still-works\n');
    await env.manager.cancel(bystander.id);
  });

  if (mode === 'direct') it('a burst of starts spawns over several event-loop turns: every task still runs and ends, and one cancelled before its spawn ends at once', async () => {
    const events: TaskEvent[] = [];
    env.manager.onEvent((e) => events.push(e));
    // 60 synchronous starts take far more than one turn's spawn budget (a spawn is milliseconds).
    const burst = Array.from({ length: 60 }, (_, i) => env.start(`echo burst-${i}`));
    const waiting = burst.filter((t) => t.pid === undefined);
    assert.ok(burst[0].pid !== undefined, 'the first start spawns at once');
    assert.ok(waiting.length > 0, 'later starts of the same turn wait for the next turns');
    assert.ok(burst.every((t) => t.status === 'running'));
    const last = burst[burst.length - 1];
    const cancelled = await env.manager.cancel(last.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.pid, undefined, 'it was never spawned');
    const ended = await Promise.all(burst.slice(0, -1).map((t) => env.manager.waitForEnd(t.id)));
    ended.forEach((t, i) => {
      assert.equal(t.status, 'completed');
      assert.equal(env.manager.outputPreview(t.id), `burst-${i}\n`);
      assert.ok(t.pid !== undefined);
    });
    // Whoever shows pids hears about a late spawn.
    const late = waiting.find((t) => t.id !== last.id) ?? waiting[0];
    assert.ok(events.some((e) => e.type === 'output' && e.task.id === late.id && e.task.pid !== undefined));
  });

  it('lists newest first, gets by id, and throws UnknownTaskError for an unknown id', async () => {
    const a = env.start('true');
    await new Promise((r) => setTimeout(r, 5));
    const b = env.start('true');
    assert.deepEqual(env.manager.list().map((t) => t.id), [b.id, a.id]);
    assert.equal(env.manager.get(a.id)?.command, 'true');
    assert.equal(env.manager.get('nope'), undefined);
    await assert.rejects(env.manager.readOutput('nope'), UnknownTaskError);
    assert.throws(() => env.manager.waitForEnd('nope'), UnknownTaskError);
    await env.manager.waitForEnd(a.id);
    await env.manager.waitForEnd(b.id);
  });

  it('waitForEnd stops waiting when its signal aborts, and the task keeps running', async () => {
    const task = env.start('sleep 30');
    const abort = new AbortController();
    const waiting = env.manager.waitForEnd(task.id, abort.signal);
    abort.abort();
    await assert.rejects(waiting);
    assert.equal(env.manager.get(task.id)?.status, 'running');
    await env.manager.cancel(task.id);
  });

  it('remove forgets a finished task, deletes its log and emits removed; a running one is refused', async () => {
    const events: TaskEvent[] = [];
    const sub = env.manager.onEvent((e) => events.push(e));
    const ended = await env.manager.waitForEnd(env.start('echo x').id);
    const running = env.start('sleep 30');
    assert.throws(() => env.manager.remove(running.id), /still running/);
    env.manager.remove(ended.id);
    assert.equal(env.manager.get(ended.id), undefined);
    assert.deepEqual(events.at(-1), { type: 'removed', taskId: ended.id });
    await until(() => !existsSync(ended.logPath), 'the log file to be deleted');
    sub.dispose();
    await env.manager.cancel(running.id);
  });
});

describe('events', () => {
  it('started, a few throttled output events (not one per chunk), ended; disposed listeners hear nothing', async () => {
    const events: TaskEvent[] = [];
    const sub = env.manager.onEvent((e) => events.push(e));
    const silent: TaskEvent[] = [];
    env.manager.onEvent((e) => silent.push(e)).dispose();
    // 40 separate writes over about a second.
    const ended = await env.manager.waitForEnd(env.start('for i in $(seq 1 40); do echo line $i; sleep 0.025; done').id);
    sub.dispose();
    assert.equal(events[0].type, 'started');
    assert.equal(events.at(-1)?.type, 'ended');
    const outputs = events.filter((e) => e.type === 'output');
    // Progress means output seen while running (a pid arriving through the launcher is an output event too).
    assert.ok(outputs.some((e) => e.task.status === 'running' && e.task.outputBytes > 0), 'some progress events');
    assert.ok(outputs.length <= 8, `${outputs.length} output events for 40 writes`);
    assert.equal(events.filter((e) => e.type === 'ended').length, 1);
    assert.equal(ended.outputBytes, readFileSync(ended.logPath).length);
    assert.equal(silent.length, 0);
  });

  it('a throwing listener does not break the manager or other listeners', async () => {
    const seen: string[] = [];
    const originalError = console.error;
    console.error = () => undefined;
    try {
      env.manager.onEvent(() => {
        throw new Error('broken view');
      });
      env.manager.onEvent((e) => seen.push(e.type));
      const ended = await env.manager.waitForEnd(env.start('echo ok').id);
      assert.equal(ended.status, 'completed');
      assert.deepEqual(seen.filter((t) => t !== 'output'), ['started', 'ended']);
    } finally {
      console.error = originalError;
    }
  });
});

describe('restore', () => {
  it('tasks that were running in an earlier window come back interrupted, with their log readable', async () => {
    const first = await env.manager.waitForEnd(env.start('seq 1 5').id);
    const running = { ...first, id: 'oldrun01', status: 'running' as const, exitCode: null, endedAt: undefined };
    const later = new BackgroundManager({ logDir: env.logDir });
    try {
      later.restore([running, { ...first, id: 'olddone1' }]);
      const restored = later.get('oldrun01');
      assert.equal(restored?.status, 'interrupted');
      assert.match(restored?.error ?? '', /window/);
      assert.equal(later.get('olddone1')?.status, 'completed');
      assert.equal((await later.readOutput('oldrun01')).text, '1\n2\n3\n4\n5\n');
      assert.equal(later.outputPreview('oldrun01'), '1\n2\n3\n4\n5\n');
      // Restoring twice does not duplicate.
      later.restore([running]);
      assert.equal(later.list().length, 2);
    } finally {
      later.dispose();
    }
  });
});

describe('ordering', () => {
  it('cancel, cancelAll and waitForEnd resolve after the ended event', async () => {
    const env2 = await createTasksEnv();
    try {
      const ended = new Set<string>();
      env2.manager.onEvent((e) => {
        if (e.type === 'ended') ended.add(e.task.id);
      });
      const a = env2.start('sleep 30');
      const b = env2.start('sleep 30');
      const c = env2.start('echo quick');
      await env2.manager.waitForEnd(c.id);
      assert.ok(ended.has(c.id));
      await env2.manager.cancel(a.id);
      assert.ok(ended.has(a.id));
      await env2.manager.cancelAll();
      assert.ok(ended.has(b.id));
    } finally {
      await env2.dispose();
    }
  });
});

// The words the Background Tasks view uses for a task (label, description, accessible name, sizes, times).
// Plain functions without `vscode`, so they are checked here in plain Node; the view itself is tested in a
// real extension host (test/integration/tasksView.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskSnapshot } from '../../src/core/tasks/types';
import { formatBytes, formatDuration } from '../../src/shared/taskWords';
import { lastLines, origin, taskAccessibleLabel, taskDescription, taskLabel } from '../../src/vscode/tasks/taskText';

const T0 = Date.UTC(2026, 10, 25, 20, 0, 0);

function task(overrides: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    id: 'abc123',
    command: 'npm test',
    cwd: '/work',
    pid: 42,
    status: 'running',
    exitCode: null,
    signal: null,
    startedAt: T0,
    outputBytes: 0,
    logPath: '/logs/abc123.log',
    origin: { kind: 'agent', conversationId: 'chat-1' },
    ...overrides,
  };
}

describe('tasks view: text', () => {
  it('labels a task by its description, else the first line of its command', () => {
    assert.equal(taskLabel(task({ description: 'Run the tests' })), 'Run the tests');
    assert.equal(taskLabel(task()), 'npm test');
    assert.equal(taskLabel(task({ command: 'echo one\necho two' })), 'echo one …');
    assert.equal(taskLabel(task({ description: '   ' })), 'npm test', 'a blank description falls back to the command');
  });

  it('describes state with elapsed time, exit code and who started it', () => {
    assert.equal(taskDescription(task(), T0 + 65_000), 'running · 1m 05s');
    assert.equal(taskDescription(task({ foreground: true }), T0 + 3_000), 'running · 3s · agent waiting');
    const ports = [{ address: '127.0.0.1', port: 5173 }, { address: '::1', port: 5173 }, { address: '0.0.0.0', port: 24678 }];
    assert.equal(taskDescription(task({ foreground: true, waitingUntilReady: true }), T0 + 3_000), 'running · 3s · waiting until ready');
    assert.equal(taskDescription(task({ ports }), T0 + 3_000), 'running · 3s · :5173 :24678');
    assert.equal(taskDescription(task({ status: 'completed', exitCode: 0, endedAt: T0 + 1_000, ports }), T0), 'completed · exit 0 · 1s', 'no ports once ended');
    assert.match(taskAccessibleLabel(task({ ports, waitingUntilReady: true }), T0 + 3_000), /^Background task npm test, running for 3 seconds, waiting until ready, listening on ports 5173, 24678, started by/);
    assert.equal(taskDescription(task({ status: 'completed', exitCode: 0, endedAt: T0 + 12_000 }), T0 + 99_000), 'completed · exit 0 · 12s');
    assert.equal(taskDescription(task({ status: 'failed', exitCode: 2, endedAt: T0 + 3_000, origin: { kind: 'user' } }), T0), 'failed · exit 2 · 3s · you');
    assert.equal(taskDescription(task({ status: 'failed', signal: 'SIGSEGV', endedAt: T0 + 1_000 }), T0), 'failed · SIGSEGV · 1s');
    assert.equal(taskDescription(task({ status: 'cancelled', signal: 'SIGTERM', endedAt: T0 + 4_000 }), T0), 'cancelled · 4s');
    assert.equal(taskDescription(task({ status: 'timed_out', endedAt: T0 + 600_000 }), T0), 'timed out · 10m 00s');
    assert.equal(taskDescription(task({ status: 'interrupted' }), T0 + 5_000), 'interrupted', 'no duration the window did not see');
  });

  it('gives screen readers one sentence with the whole state', () => {
    assert.equal(taskAccessibleLabel(task(), T0 + 61_000), 'Background task npm test, running for 1 minute 1 second, started by the agent (chat chat-1)');
    assert.equal(
      taskAccessibleLabel(task({ status: 'failed', exitCode: 1, endedAt: T0 + 2_000, origin: { kind: 'user', conversationId: 'c2' } }), T0),
      'Background task npm test, failed with exit code 1 after 2 seconds, started by you (reported to chat c2)',
    );
    assert.equal(taskAccessibleLabel(task({ status: 'interrupted' }), T0), 'Background task npm test, interrupted when the window closed, started by the agent (chat chat-1)');
  });

  it("says when another agent started a task through VS Code's tools", () => {
    const outside = task({ origin: { kind: 'externalAgent' } });
    assert.equal(taskDescription(outside, T0 + 3_000), 'running · 3s · other agent');
    assert.equal(origin(outside.origin), "another agent, through VS Code's language-model tools");
    assert.equal(taskAccessibleLabel(outside, T0 + 1_000), "Background task npm test, running for 1 second, started by another agent, through VS Code's language-model tools");
  });

  it('formats elapsed times and sizes compactly', () => {
    assert.equal(formatDuration(0), '0s');
    assert.equal(formatDuration(59_999), '59s');
    assert.equal(formatDuration(3_600_000 + 3 * 60_000), '1h 03m');
    assert.equal(formatBytes(35), '35 B');
    assert.equal(formatBytes(1536), '1.5 KB');
    assert.equal(formatBytes(1024 ** 3), '1.0 GB');
    assert.equal(formatBytes(250 * 1024 ** 2), '250 MB');
  });

  it('keeps the last lines of a preview without trailing blank lines', () => {
    assert.equal(lastLines('a\nb\nc\nd\n\n', 2), 'c\nd');
    assert.equal(lastLines('only', 5), 'only');
    assert.equal(lastLines('', 3), '');
  });
});

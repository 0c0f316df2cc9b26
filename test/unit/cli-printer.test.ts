// The CLI printer: which event becomes which line, on which stream.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorSentence } from '../../src/cli/exitCodes';
import { Printer } from '../../src/cli/printer';
import type { TaskSnapshot } from '../../src/core/tasks/types';

function capture(): { printer: Printer; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const printer = new Printer({ write: (t: string) => out.push(t) }, { write: (t: string) => err.push(t) });
  return { printer, out, err };
}

function task(overrides: Partial<TaskSnapshot>): TaskSnapshot {
  return {
    id: 't1',
    command: 'npm test',
    cwd: '/w',
    status: 'running',
    exitCode: null,
    signal: null,
    startedAt: 1_000,
    outputBytes: 0,
    logPath: '/tmp/t1.log',
    origin: { kind: 'agent', conversationId: 'c' },
    ...overrides,
  };
}

describe('cli printer', () => {
  it('streams text to stdout and ends the line before a tool line on stderr', () => {
    const { printer, out, err } = capture();
    printer.onAgentEvent({ type: 'text_delta', text: 'Let me ' });
    printer.onAgentEvent({ type: 'text_delta', text: 'check.' });
    printer.onAgentEvent({ type: 'tool_start', toolUseId: 'u1', name: 'bash', input: { command: 'npm test\n--watch=false' } });
    printer.onAgentEvent({ type: 'tool_end', toolUseId: 'u1', name: 'bash', result: 'Exit code 0 (1s).\nok\nok', isError: false });
    printer.onAgentEvent({ type: 'text_delta', text: 'Done.' });
    printer.onAgentEvent({ type: 'turn_end', reason: 'end_turn' });
    assert.equal(out.join(''), 'Let me check.\nDone.\n');
    assert.equal(err.join(''), '⏺ bash: npm test ⏎ --watch=false\n  ⎿ Exit code 0 (1s). (+2 lines)\n');
  });

  it('gives a compaction one stderr line; an automatic one skipped, a failed one (its error says it) and clearing none', () => {
    const { printer, out, err } = capture();
    const end = { type: 'compaction_end', beforeTokens: 41_200, afterTokens: 1500 } as const;
    printer.onAgentEvent({ type: 'context_cleared', cleared: 3, freedTokens: 9000 });
    printer.onAgentEvent({ ...end, reason: 'auto', outcome: 'compacted', summary: 'S', summarised: true });
    printer.onAgentEvent({ ...end, reason: 'too_long', outcome: 'compacted', summary: 'No summary could be made (x).', summarised: false, message: 'no text came back' });
    printer.onAgentEvent({ ...end, reason: 'manual', outcome: 'skipped', message: 'Nothing to compact yet: the model has not answered in this conversation.' });
    printer.onAgentEvent({ ...end, reason: 'auto', outcome: 'skipped', message: 'Nothing to compact yet' });
    printer.onAgentEvent({ ...end, reason: 'manual', outcome: 'failed', message: 'The conversation could not be compacted: x.' });
    printer.onAgentEvent({ ...end, reason: 'manual', outcome: 'aborted' });
    assert.deepEqual(out, []);
    assert.deepEqual(err.join('').split('\n').slice(0, -1), [
      '[compacted: the conversation was summarized, 41k → 1.5k tokens, because the context was nearly full; your requests and every task id are kept]',
      '[compacted: earlier messages dropped without a summary, 41k → 1.5k tokens, because the API refused a request as too long (no text came back)]',
      '[not compacted: Nothing to compact yet: the model has not answered in this conversation.]',
      '[compaction stopped: nothing was summarized]',
    ]);
  });

  it('says results were delivered in one line per block, counting a burst instead of naming hundreds', () => {
    const { printer, err } = capture();
    printer.onAgentEvent({ type: 'notifications_delivered', taskIds: ['a1'] });
    printer.onAgentEvent({ type: 'notifications_delivered', taskIds: ['a1', 'b2'] });
    printer.onAgentEvent({ type: 'notifications_delivered', taskIds: Array.from({ length: 500 }, (_, i) => `t${i}`) });
    assert.deepEqual(err, [
      '[bg a1] result delivered to the agent\n',
      '[bg a1, b2] results delivered to the agent\n',
      '[bg t0, t1, t2, t3, t4 and 495 more] 500 results delivered to the agent\n',
    ]);
  });

  it('the turn-limit sentence says that deliveries are free, and what the run leaves undelivered or stops', () => {
    const limit = { kind: 'max_turns', message: 'Stopped after 2 model requests' };
    assert.equal(
      errorSentence(limit, { maxTurns: 2 }),
      'Error: the agent reached the turn limit (--max-turns 2) before it finished; model calls that only deliver background results do not count toward it.',
    );
    assert.match(errorSentence(limit, { maxTurns: 2 }, { undelivered: 1, running: 0 }), /toward it\. 1 background result was not delivered to it\.$/);
    assert.match(errorSentence(limit, {}, { undelivered: 3, running: 2 }), /\(--max-turns 50\).*3 background results were not delivered to it; 2 tasks still running are stopped\.$/);
    assert.match(errorSentence(limit, {}, { undelivered: 0, running: 1 }), /toward it\. 1 task still running is stopped\.$/);
  });

  it('summarizes read_file by its footer and marks errors', () => {
    const { printer, err } = capture();
    printer.onAgentEvent({ type: 'tool_start', toolUseId: 'u', name: 'read_file', input: { path: 'a.ts', offset: 10 } });
    printer.onAgentEvent({ type: 'tool_end', toolUseId: 'u', name: 'read_file', result: '    10\tx\n(a.ts: lines 10–10, end of file)', isError: false });
    printer.onAgentEvent({ type: 'tool_end', toolUseId: 'v', name: 'edit_file', result: '`old_text` was not found in a.ts.', isError: true });
    assert.deepEqual(err, ['⏺ read_file: a.ts (from line 10)\n', '  ⎿ (a.ts: lines 10–10, end of file)\n', '  ⎿ error: `old_text` was not found in a.ts.\n']);
  });

  it('shows background tasks, but a foreground bash only once it moves to the background', () => {
    const { printer, err } = capture();
    printer.onTaskEvent({ type: 'started', task: task({ id: 'bg1', command: 'sleep 5' }) });
    printer.onTaskEvent({ type: 'ended', task: task({ id: 'bg1', command: 'sleep 5', status: 'completed', exitCode: 0, endedAt: 6_000 }) });
    printer.onTaskEvent({ type: 'started', task: task({ id: 'fg1', foreground: true }) });
    printer.onTaskEvent({ type: 'ended', task: task({ id: 'fg1', foreground: true, status: 'completed', exitCode: 0, endedAt: 2_000 }) });
    printer.onTaskEvent({ type: 'started', task: task({ id: 'fg2', command: 'make', foreground: true }) });
    printer.onTaskEvent({ type: 'output', task: task({ id: 'fg2', command: 'make', foreground: false }) });
    printer.onTaskEvent({ type: 'ended', task: task({ id: 'fg2', command: 'make', status: 'failed', exitCode: 2, endedAt: 3_500 }) });
    assert.deepEqual(err, [
      '[bg bg1] started: sleep 5\n',
      '[bg bg1] completed (exit 0, 5s)\n',
      '[bg fg2] moved to the background: make\n',
      '[bg fg2] failed (exit 2, 2s)\n',
    ]);
  });

  it('keeps the last error for the exit code instead of printing it mid-run', () => {
    const { printer, err } = capture();
    printer.onAgentEvent({ type: 'error', kind: 'api', message: 'The API answered 400: bad.' });
    assert.deepEqual(printer.lastError, { kind: 'api', message: 'The API answered 400: bad.' });
    assert.deepEqual(err, []);
  });
});

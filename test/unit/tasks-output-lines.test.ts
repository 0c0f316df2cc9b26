// Matching output lines (wait_for, notify_on): LineMatcher over text, LogLineReader over a real log file,
// and the checks a pattern passes before it is used.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LINE_MATCH_CHARS, LineMatcher, LogLineReader, type MatchedLine } from '../../src/core/tasks/outputLines';
import { PatternThread, PatternTooSlowError } from '../../src/core/tasks/patternThread';
import { checkOutputPattern } from '../../src/core/tasks/outputPattern';
import { TaskLog } from '../../src/core/tasks/taskLog';

describe('LineMatcher (matching in the worker thread)', () => {
  const thread = new PatternThread();
  after(() => thread.dispose());

  it('reports each matching line once, with the lines around it, across pieces', async () => {
    const m = new LineMatcher(/error/, thread);
    assert.deepEqual(await m.feed('one\nerror A\ntwo\n'), [{ line: 'error A', before: 'one', after: 'two' }]);
    const last: MatchedLine[] = await m.feed('three\nerror B error again\n');
    assert.deepEqual([...last], [{ line: 'error B error again', before: 'three' }]);
    await m.feed('four\n');
    assert.equal(last[0].after, 'four', 'the line after arrives with the next text');
  });

  it('matches each line alone: a pattern never spans two lines', async () => {
    assert.deepEqual((await new LineMatcher(/a\s+b/, thread).feed('x a\nb y\nz a b\n')).map((x) => x.line), ['z a b']);
    assert.deepEqual((await new LineMatcher(/[\s\S]*FATAL/, thread).feed('FA\nTAL\nboom FATAL\n')).map((x) => x.line), ['boom FATAL']);
  });

  it('anchors ^ and $ at each line and matches empty lines, never the end of the text', async () => {
    assert.deepEqual((await new LineMatcher(/^ready$/, thread).feed('not ready\nready\nready now\n')).map((x) => x.line), ['ready']);
    assert.deepEqual((await new LineMatcher(/^$/, thread).feed('a\n\nb\n')).map((x) => x.line), ['']);
  });

  it('matches a long line on its first LINE_MATCH_CHARS characters only, and many lines in pieces', async () => {
    const long = `${'x'.repeat(LINE_MATCH_CHARS)}TAIL`;
    const m = new LineMatcher(/TAIL|HEAD/, thread);
    assert.deepEqual((await m.feed(`${long}\nHEAD${'y'.repeat(LINE_MATCH_CHARS)}\n`)).map((x) => x.line.length), [LINE_MATCH_CHARS]);
    const many = Array.from({ length: 20_000 }, (_, i) => `line ${i}${i % 5000 === 0 ? ' hit' : ''}`).join('\n');
    assert.deepEqual((await new LineMatcher(/hit$/, thread).feed(`${many}\n`)).map((x) => x.line), ['line 0 hit', 'line 5000 hit', 'line 10000 hit', 'line 15000 hit']);
  });

  it('shows control characters escaped', async () => {
    assert.deepEqual((await new LineMatcher(/bell/, thread).feed('bell\x07\n')).map((x) => x.line), ['bell\\x07']);
  });

  it('stops a pattern that backtracks for seconds, and the main thread stays free meanwhile', async () => {
    const slow = new PatternThread(300);
    try {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      // Passes the nesting check (star height 1), yet doubles its time with every space on a line without "error".
      const stuck = new LineMatcher(/(.|\s)*error/, slow).feed(`${' '.repeat(40)}\n`);
      await assert.rejects(stuck, PatternTooSlowError);
      clearInterval(ticker);
      assert.ok(ticks >= 5, `the event loop ran while the worker was stuck (${ticks} ticks)`);
      assert.deepEqual((await new LineMatcher(/ok/, slow).feed('fine\nok\n')).map((x) => x.line), ['ok'], 'the next request gets a new worker');
    } finally {
      slow.dispose();
    }
  });
});

describe('LogLineReader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ba-lines-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hands out whole lines, keeps a partial one for later, and applies terminal escapes', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, '\x1b[32mgreen\x1b[0m line\nprogress 10%\rprogress 99%\nhalf');
    const reader = new LogLineReader(new TaskLog(path, { headBytes: 1024, tailBytes: 1024 }), 0, Infinity);
    assert.deepEqual(await reader.read({ settled: false }), { text: 'green line\nprogress 99%\n', more: false });
    assert.deepEqual(await reader.read({ settled: false, includeStablePartial: true }), { text: 'half', more: false }, 'unchanged since the last read: it stands');
    appendFileSync(path, ' do');
    assert.deepEqual(await reader.read({ settled: false, includeStablePartial: true }), { text: '', more: false }, 'a line that grew is not a line yet');
    appendFileSync(path, 'ne\nnext\n');
    assert.deepEqual(await reader.read({ settled: false }), { text: 'half done\nnext\n', more: false });
    appendFileSync(path, 'no newline at the end');
    assert.deepEqual(await reader.read({ settled: true }), { text: 'no newline at the end\n', more: false });
  });
});

describe('checkOutputPattern', () => {
  it('accepts ordinary patterns, lookarounds included', () => {
    for (const source of ['ready in \\d+ ms', 'Local:\\s+http://\\S+', '(?<=port )\\d+', 'error(?!s)', '^\\s*$']) assert.equal(checkOutputPattern('wait_for', source).ok, true, source);
  });

  it('refuses invalid, empty and exponential patterns with a message the model can act on', () => {
    const bad = checkOutputPattern('wait_for', '[a-');
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.message, /^`wait_for` is not a valid JavaScript regular expression: Invalid regular expression/);
    const empty = checkOutputPattern('notify_on', '');
    assert.match(empty.ok ? '' : empty.message, /^`notify_on` is empty/);
    for (const source of ['(a+)+$', '(x+x+)+y', '\\w+(?:-\\w+)*$', '/ready/i']) {
      const result = checkOutputPattern('notify_on', source);
      assert.equal(result.ok, false, source);
    }
  });
});

// Matching output lines (wait_for, notify_on): LineMatcher over text, LogLineReader over a real log file,
// and the checks a pattern passes before it is used.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LINE_MATCH_CHARS, LineMatcher, LogLineReader } from '../../src/core/tasks/outputLines';
import { checkOutputPattern } from '../../src/core/tasks/outputPattern';
import { TaskLog } from '../../src/core/tasks/taskLog';

describe('LineMatcher', () => {
  it('reports each matching line once, with the lines around it, across chunks', () => {
    const m = new LineMatcher(/error/);
    assert.deepEqual(m.feed('one\nerror A\ntwo\n'), [{ line: 'error A', before: 'one', after: 'two' }]);
    const last = m.feed('three\nerror B error again\n');
    assert.deepEqual(last, [{ line: 'error B error again', before: 'three' }] as typeof last);
    m.feed('four\n');
    assert.equal(last[0].after, 'four', 'the line after arrives with the next chunk');
  });

  it('never reports a line that matches only together with the next one', () => {
    const m = new LineMatcher(/a\s+b/);
    assert.deepEqual(m.feed('x a\nb y\nz a b\n').map((x) => x.line), ['z a b']);
  });

  it('anchors ^ and $ at each line, matches empty lines, and a hit on a newline belongs to its line', () => {
    assert.deepEqual(new LineMatcher(/^ready$/).feed('not ready\nready\nready now\n').map((x) => x.line), ['ready']);
    assert.deepEqual(new LineMatcher(/^$/).feed('a\n\nb\n').map((x) => x.line), ['']);
    assert.deepEqual(new LineMatcher(/\s$/).feed('\nx \ny\n').map((x) => x.line), ['x ']);
  });

  it('matches a long line on its first LINE_MATCH_CHARS characters only', () => {
    const long = `${'x'.repeat(LINE_MATCH_CHARS)}TAIL`;
    const m = new LineMatcher(/TAIL|HEAD/);
    assert.deepEqual(m.feed(`${long}\nHEAD${'y'.repeat(LINE_MATCH_CHARS)}\n`).map((x) => x.line.length), [LINE_MATCH_CHARS]);
  });

  it('shows control characters escaped', () => {
    assert.deepEqual(new LineMatcher(/bell/).feed('bell\x07\n').map((x) => x.line), ['bell\\x07']);
  });
});

describe('LogLineReader', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ba-lines-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('hands out whole lines, keeps a partial one for later, and applies terminal escapes', async () => {
    const path = join(dir, 'a.log');
    writeFileSync(path, '\x1b[32mgreen\x1b[0m line\nprogress 10%\rprogress 99%\nhalf');
    const reader = new LogLineReader(new TaskLog(path, { headBytes: 1024, tailBytes: 1024 }));
    assert.deepEqual(await reader.read({ settled: false }), { text: 'green line\nprogress 99%\n', more: false });
    assert.deepEqual(await reader.read({ settled: false, includePartial: true }), { text: 'half', more: false });
    appendFileSync(path, ' done\nnext\n');
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
    for (const source of ['(a+)+$', '(x+x+)+y', '\\w+(?:-\\w+)*$']) {
      const result = checkOutputPattern('notify_on', source);
      assert.equal(result.ok, false, source);
    }
  });
});

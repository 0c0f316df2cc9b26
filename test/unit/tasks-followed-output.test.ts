// What a running task's output document shows while it follows the log, and the shape of each update:
// VS Code's editor worker diffs a content provider's new text against the old one, and only an update that
// is one insertion or one deletion (or tiny) is cheap for it and for the renderer (src/vscode/tasks/
// followedOutput.ts). The document itself is tested in a real extension host (test/integration/tasksView.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OutputSlice } from '../../src/core/tasks/types';
import { BODY_MAX_CHARS, FollowedOutput, RUNNING_HEAD_BYTES, type LogReader } from '../../src/vscode/tasks/followedOutput';

const HEADER = '$ build\nTask t1: running since 10:00:00.\n────\n';
const LEFT_OUT = '\n… output left out here. The whole log: /logs/t1.log\n\n';
/** VS Code diffs documents up to this many characters; longer ones are replaced whole. */
const VSCODE_DIFF_LIMIT = 100_000;

/** A log in memory, read like TaskLog.read (ASCII only here, so bytes are characters). */
class FakeLog {
  text = '';
  print(text: string): number {
    this.text += text;
    return this.text.length;
  }
  readonly read: LogReader = async (offset, maxBytes): Promise<OutputSlice> => {
    const start = offset ?? Math.max(0, this.text.length - maxBytes);
    const end = Math.min(this.text.length, start + maxBytes);
    return { text: this.text.slice(start, end), offset: start, nextOffset: end, totalBytes: this.text.length };
  };
}

function numbered(from: number, to: number): string {
  let text = '';
  for (let n = from; n <= to; n++) text += `${n} a line of build output\n`;
  return text;
}

/** One insertion or one deletion once the common start and end are taken off, or a change under 1,024 characters. */
function assertCheapEdit(before: string, after: string): void {
  let prefix = 0;
  while (prefix < before.length && prefix < after.length && before[prefix] === after[prefix]) prefix++;
  let suffix = 0;
  while (suffix < before.length - prefix && suffix < after.length - prefix && before[before.length - 1 - suffix] === after[after.length - 1 - suffix]) suffix++;
  const removed = before.length - prefix - suffix;
  const added = after.length - prefix - suffix;
  assert.ok(removed === 0 || added === 0 || Math.max(removed, added) <= 1024, `an edit that removes ${removed} and adds ${added} characters in one place`);
}

/** Advances and checks every step against the one before; returns the last text. */
async function update(output: FollowedOutput, log: FakeLog, shown: string): Promise<string> {
  for (const step of await output.advance(log.read, log.text.length)) {
    assertCheapEdit(shown, step);
    assert.ok(step.length < VSCODE_DIFF_LIMIT, `${step.length} characters`);
    shown = step;
  }
  assert.equal(shown, output.text());
  return shown;
}

/** The numbers of the output lines after the header, in order; `null` for a line saying output was left out. */
function shownLines(text: string): (number | null)[] {
  return text
    .slice(HEADER.length)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => (line.startsWith('…') ? null : Number(line.split(' ')[0])));
}

/** Runs of consecutive numbers from 1, broken only where a line says output was left out; ends with `last`. */
function assertFollows(text: string, last: number): void {
  let expected = 1;
  let gap = false;
  for (const n of shownLines(text)) {
    if (n === null) {
      gap = true;
      continue;
    }
    assert.ok(n === expected || (gap && n > expected), `line ${n} where ${expected} was next`);
    expected = n + 1;
    gap = false;
  }
  assert.equal(expected, last + 1, 'the last line of the log is the last line shown');
}

describe('FollowedOutput: the document of a running task', () => {
  it('shows a short log whole and appends what comes next, a partial line as it is printed', async () => {
    const log = new FakeLog();
    const output = new FollowedOutput(HEADER, LEFT_OUT);
    log.print(numbered(1, 3));
    let shown = await update(output, log, '');
    assert.equal(shown, HEADER + numbered(1, 3));
    log.print('4 a line of bu');
    shown = await update(output, log, shown);
    assert.equal(shown, HEADER + numbered(1, 3) + '4 a line of bu');
    log.print('ild output\n');
    const before = shown;
    shown = await update(output, log, shown);
    assert.ok(shown.startsWith(before), 'the rest of the line is appended');
    assert.equal(shown, HEADER + numbered(1, 4));
    assert.deepEqual(await output.advance(log.read, log.text.length), [], 'nothing new, no update');
  });

  it('re-bases a growing log by deleting a block: the head stays, a fixed line marks the gap, the end is the log end', async () => {
    const log = new FakeLog();
    const output = new FollowedOutput(HEADER, LEFT_OUT);
    let shown = '';
    let last = 0;
    // About 4 KB per update: appended whole, never a jump.
    for (let i = 0; i < 40; i++) {
      log.print(numbered(last + 1, last + 150));
      last += 150;
      shown = await update(output, log, shown);
      assertFollows(shown, last);
    }
    assert.ok(shown.startsWith(HEADER + numbered(1, 10)), 'the head is the start of the log');
    assert.ok(shown.includes(LEFT_OUT), 'the left-out line stands between the head and the rest');
    assert.ok(!/more not shown here/.test(shown), 'no jumps at this pace');
    assert.ok(shown.length < HEADER.length + RUNNING_HEAD_BYTES + LEFT_OUT.length + BODY_MAX_CHARS, `${shown.length} characters`);
  });

  it('follows a flood with its newest lines and says how much it skipped; each step one cheap edit', async () => {
    const log = new FakeLog();
    const output = new FollowedOutput(HEADER, LEFT_OUT);
    let shown = '';
    let last = 0;
    for (let i = 0; i < 40; i++) {
      // 300 KB between two updates, ending inside a line now and then.
      log.print(numbered(last + 1, last + 10_000));
      last += 10_000;
      if (i % 3 === 0) log.print(`${last + 1} a line of bu`);
      shown = await update(output, log, shown);
      if (i % 3 === 0) {
        log.print('ild output\n');
        last++;
      }
    }
    shown = await update(output, log, shown);
    assertFollows(shown, last);
    assert.match(shown, /\n… [\d.]+ KB more not shown here …\n/);
    assert.ok(shown.startsWith(HEADER + numbered(1, 10)), 'the head is still the start of the log');
  });

  it('a line redrawn with \\r is replaced in a step of its own before a large append', async () => {
    const log = new FakeLog();
    const output = new FollowedOutput(HEADER, LEFT_OUT);
    log.print('downloading 10%');
    let shown = await update(output, log, '');
    assert.ok(shown.endsWith('downloading 10%'));
    log.print(`\rdownloading 100%\n${numbered(1, 100)}`);
    const steps = await output.advance(log.read, log.text.length);
    assert.deepEqual(steps, [HEADER, HEADER + 'downloading 100%\n' + numbered(1, 100)]);
    for (const step of steps) {
      assertCheapEdit(shown, step);
      shown = step;
    }
  });

  it('opened late, shows the head and the newest output with how much is left out between', async () => {
    const log = new FakeLog();
    const output = new FollowedOutput(HEADER, LEFT_OUT);
    log.print(numbered(1, 100_000));
    const shown = await update(output, log, '');
    assert.ok(shown.startsWith(HEADER + numbered(1, 10)));
    assert.match(shown, new RegExp(`${LEFT_OUT}… [\\d.]+ MB more not shown here …\\n`));
    assertFollows(shown, 100_000);
    assert.ok(shown.length < 40_000, `${shown.length} characters`);
  });
});

describe('a followed output document, on output that is not plain lines', () => {
  it('shows a progress bar redrawn with \\r and no newline as its latest drawing, never glued drawings', async () => {
    const log = new FakeLog();
    const output = new FollowedOutput(HEADER, LEFT_OUT);
    log.print('downloading\n');
    let shown = await update(output, log, '');
    // 300 redraws of about 30 characters: over the 4,096 a line may wait for its newline.
    for (let step = 0; step < 3; step++) {
      let bar = '';
      for (let p = step * 100; p < (step + 1) * 100; p++) bar += `\rdl ${String(p).padStart(3)}% ${'#'.repeat(20)}`;
      log.print(bar);
      shown = await update(output, log, shown);
    }
    const lastLine = shown.slice(shown.lastIndexOf('\n') + 1);
    assert.equal(lastLine, `dl 299% ${'#'.repeat(20)}`);
    assert.doesNotMatch(shown, /%.{0,30}dl /, 'no two drawings on one line');
  });

  it('never goes back over shown lines when the log is gone under it (a removed file reads as empty)', async () => {
    const log = new FakeLog();
    const output = new FollowedOutput(HEADER, LEFT_OUT);
    log.print(numbered(1, 50));
    const shown = await update(output, log, '');
    const gone: LogReader = async () => ({ text: '', offset: 0, nextOffset: 0, totalBytes: 0 });
    assert.deepEqual(await output.advance(gone, log.text.length + 100), []);
    assert.equal(output.text(), shown);
    assert.equal(output.readUpTo, log.text.length);
  });

  it('says where an update longer than the document keeps was cut', async () => {
    const log = new FakeLog();
    const output = new FollowedOutput(HEADER, LEFT_OUT);
    log.print('start\n');
    let shown = await update(output, log, '');
    // Control bytes are escaped 4 characters each: 8 KB of them is 32,000 characters in one update.
    log.print(`${'\x01'.repeat(8000)}\nend\n`);
    shown = await update(output, log, shown);
    assert.match(shown, /… [\d.]+ [KM]?B more not shown here …\n/);
    assert.ok(shown.endsWith('end\n'));
  });
});

// A flooding task's log is trimmed in place (LogTrimmer) once it holds more than maxLogBytes, so the disk
// never fills, while its first bytes and its newest output stay readable, and every reader (readOutput,
// check_background, previews) skips what was dropped and says so.
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { LogTrimmer } from '../../src/core/tasks/logTrimmer';
import { readLogEdgesSync, readLogSlice } from '../../src/core/tasks/outputText';
import { TaskLog, type LogState } from '../../src/core/tasks/taskLog';
import type { TaskEvent, TaskSnapshot } from '../../src/core/tasks/types';
import { executeTool } from '../../src/core/tools';
import { createTasksEnv, SPAWN_MODES, until, type TasksEnv } from '../support/tasksKit';
import { autoApproval } from '../support/approvals';

const MiB = 1024 * 1024;
/** `seq 1 N` prints every number on its own line: any slice shows whether lines are whole and in order. */
const LAST = 1_500_000; // about 10.9 MB of output
let env: TasksEnv | undefined;
afterEach(async () => {
  await env?.dispose();
  env = undefined;
});

/** Bytes the file really holds on disk (holes take none). */
function diskBytes(file: string): number {
  return statSync(file).blocks * 512;
}

/** Whole lines of `text` (the cut first and last ones dropped) are consecutive numbers. */
function assertConsecutive(text: string): void {
  const lines = text.split('\n').slice(1, -1);
  assert.ok(lines.length > 10, 'enough whole lines to judge');
  for (let i = 1; i < lines.length; i++) assert.equal(Number(lines[i]), Number(lines[i - 1]) + 1, `line ${i} follows the previous`);
}

describe('log trimming', { skip: process.platform === 'win32' && 'Windows has no sparse logs: trimming is off there' }, () => {
  it('a task that printed more than the cap keeps its first bytes and its latest output on disk, and nothing more', async () => {
    env = await createTasksEnv({ maxLogBytes: 4 * MiB });
    const ended = await env.manager.waitForEnd(env.start(`seq 1 ${LAST}`).id);
    assert.equal(ended.status, 'completed');
    const logPath = ended.logPath;
    await until(() => diskBytes(logPath) <= 4 * MiB, 'the log to be trimmed to the cap');
    assert.equal(statSync(logPath).size, ended.outputBytes, 'the file keeps its size: offsets stay true');
    const dropped = ended.droppedOutput;
    assert.ok(dropped, 'the ended snapshot says what was dropped');
    assert.equal(dropped.from, MiB, 'the first MiB is kept');
    assert.ok(ended.outputBytes - dropped.to >= MiB, 'the newest MiB is kept');

    // From the start: the first lines, then the read stops where the dropped range begins.
    const head = await env.manager.readOutput(ended.id, { offset: 0, maxBytes: 4 * MiB });
    assert.ok(head.text.startsWith('1\n2\n3\n'));
    assert.deepEqual(head.dropped, dropped);
    assert.equal(head.nextOffset, dropped.to, 'the next read continues after the dropped range');
    assert.ok(!head.text.includes('\0'));
    // Inside the dropped range: the read starts where it ends, with real lines, never zeros.
    const after = await env.manager.readOutput(ended.id, { offset: dropped.from + 100, maxBytes: 64 * 1024 });
    assert.equal(after.offset >= dropped.to && after.offset < dropped.to + 8, true, 'starts at the end of the dropped range');
    assert.ok(!after.text.includes('\0'));
    assertConsecutive(after.text);
    // The tail, the preview and the notification end with the last line.
    const tail = await env.manager.readOutput(ended.id);
    assert.ok(tail.text.endsWith(`\n${LAST}\n`));
    assertConsecutive(tail.text);
    assert.ok(env.manager.outputPreview(ended.id).endsWith(`${LAST}\n`));
    const [notification] = env.manager.notifications.drain(env.conversationId);
    assert.ok(notification.outputTail.includes(`${LAST}`));
  });

  it('check_background tells the model which bytes are gone and how to read on', async () => {
    env = await createTasksEnv({ maxLogBytes: 4 * MiB });
    const ended = await env.manager.waitForEnd(env.start(`seq 1 ${LAST}`).id);
    await until(() => diskBytes(ended.logPath) <= 4 * MiB, 'the log to be trimmed');
    const dropped = ended.droppedOutput as NonNullable<TaskSnapshot['droppedOutput']>;
    const ctx = { cwd: env.dir, manager: env.manager, conversationId: env.conversationId, signal: new AbortController().signal, approval: autoApproval() };
    const atDrop = await executeTool('check_background', { task_id: ended.id, offset: dropped.from - 100 }, ctx);
    assert.match(atDrop.content, new RegExp(`bytes ${dropped.from}–${dropped.to} \\(.*\\) are not in the log any more.*stops where they begin`));
    assert.match(atDrop.content, new RegExp(`and offset ${dropped.to}\\]$`), 'the next offset skips the dropped range');
    const inside = await executeTool('check_background', { task_id: ended.id, offset: dropped.from + 5 }, ctx);
    assert.match(inside.content, /starts after them/);
    assert.doesNotMatch(inside.content, /\0/);
  });

  for (const spawnMode of SPAWN_MODES) {
    it(`trims while the task still runs, says so in its output events, and what it keeps reads without zeros (${spawnMode})`, async () => {
      env = await createTasksEnv({ maxLogBytes: 4 * MiB, spawnMode });
      const events: TaskEvent[] = [];
      env.manager.onEvent((event) => events.push(event));
      // As fast as `yes` can print, for a second: trimmed several times while it writes, by the watcher.
      // The last line comes a second after the flood: bytes written during a trim's microseconds between
      // reading the tail and cutting the file are lost by design (logTrimmer.ts), and on a loaded machine
      // (CI running other tests) those microseconds can stretch to a scheduler slice.
      const task = env.start('timeout 1 yes abcdefghi; sleep 1; echo last line');
      await until(() => events.some((e) => e.type === 'output' && e.task.droppedOutput !== undefined), 'an output event with a dropped range');
      const ended = await env.manager.waitForEnd(task.id);
      assert.ok(ended.outputBytes > 40 * MiB, `printed ${ended.outputBytes} bytes`);
      assert.ok(diskBytes(ended.logPath) <= 4 * MiB + 4096, `disk use ${diskBytes(ended.logPath)} within the cap`);
      // Page through everything the log kept: whole lines of the flood, never a zero, then the last line.
      let text = '';
      for (let offset = 0; offset < ended.outputBytes; ) {
        const slice = await env.manager.readOutput(task.id, { offset, maxBytes: 512 * 1024 });
        text += slice.text;
        assert.ok(slice.nextOffset > offset, 'every read makes progress');
        offset = slice.nextOffset;
      }
      // (`timeout` may stop `yes` in the middle of a line.)
      assert.match(text, /^[a-i\n]+last line\n$/, 'only the flood\'s letters, no zeros, then the last line');
      const preview = env.manager.outputPreview(task.id);
      assert.ok(preview.endsWith('last line\n'), `the preview ends ${JSON.stringify(preview.slice(-120))}`);
    });
  }

  it('Infinity keeps every byte', async () => {
    env = await createTasksEnv({ maxLogBytes: Infinity });
    const ended = await env.manager.waitForEnd(env.start(`seq 1 ${LAST}`).id);
    assert.equal(ended.droppedOutput, undefined);
    assert.ok(diskBytes(ended.logPath) >= ended.outputBytes);
    assert.ok((await env.manager.readOutput(ended.id, { offset: 0, maxBytes: ended.outputBytes })).text.endsWith(`${LAST}\n`));
  });

  it('a window shutting down does not trim any more: its tasks were saved as they were', async () => {
    env = await createTasksEnv({ maxLogBytes: Infinity });
    const task = env.start(`seq 1 ${LAST}; sleep 30`);
    const printed = 10_888_896; // what `seq 1 ${LAST}` prints
    await until(() => env?.manager.get(task.id)?.outputBytes === printed, 'the numbers to be printed');
    // A smaller cap now, and the window closes before the watcher's next look at the log.
    env.manager.setMaxLogBytes(4 * MiB);
    env.manager.dispose();
    // readOutput waits for a trim under way, if any.
    await env.manager.readOutput(task.id, { offset: 0, maxBytes: 4 });
    assert.equal(env.manager.get(task.id)?.droppedOutput, undefined, 'nothing dropped after dispose');
    assert.ok(diskBytes(task.logPath) >= printed, 'the log is whole');
  });

  it('a task restored in a later window still skips what was dropped', async () => {
    env = await createTasksEnv({ maxLogBytes: 4 * MiB });
    const ended = await env.manager.waitForEnd(env.start(`seq 1 ${LAST}`).id);
    await until(() => diskBytes(ended.logPath) <= 4 * MiB, 'the log to be trimmed');
    const later = await createTasksEnv();
    try {
      later.manager.restore([JSON.parse(JSON.stringify(env.manager.get(ended.id))) as TaskSnapshot]);
      assert.deepEqual(later.manager.get(ended.id)?.droppedOutput, ended.droppedOutput);
      const slice = await later.manager.readOutput(ended.id, { offset: (ended.droppedOutput?.from ?? 0) + 10 });
      assert.equal(slice.offset >= (ended.droppedOutput?.to ?? 0), true, 'starts after the dropped range');
      assert.ok(!slice.text.includes('\0'));
      assertConsecutive(slice.text);
    } finally {
      await later.dispose();
    }
  });
});

describe('reading around a dropped range', () => {
  it('stops where the range begins, starts after it when asked inside it, and reads normally elsewhere', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'holey.log');
    writeFileSync(file, 'a'.repeat(100) + '\0'.repeat(100) + 'b'.repeat(100));
    const dropped = { from: 100, to: 200 };
    const read = (offset: number | undefined, maxBytes: number) => readLogSlice(file, { offset, maxBytes, settled: true, dropped });
    assert.deepEqual(await read(50, 100), { text: 'a'.repeat(50), offset: 50, nextOffset: 200, totalBytes: 300, dropped });
    assert.deepEqual(await read(150, 20), { text: 'b'.repeat(20), offset: 200, nextOffset: 220, totalBytes: 300, dropped });
    assert.deepEqual(await read(0, 50), { text: 'a'.repeat(50), offset: 0, nextOffset: 50, totalBytes: 300 });
    assert.deepEqual(await read(250, 100), { text: 'b'.repeat(50), offset: 250, nextOffset: 300, totalBytes: 300 });
    // The default (last maxBytes) that would begin inside the range begins after it.
    assert.deepEqual(await read(undefined, 150), { text: 'b'.repeat(100), offset: 200, nextOffset: 300, totalBytes: 300, dropped });
    assert.deepEqual(await read(100, 10), { text: 'b'.repeat(10), offset: 200, nextOffset: 210, totalBytes: 300, dropped });
  });

  it('leaves out the zeros at lostAt, also when a read starts inside them', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'lost.log');
    // head 10 | dropped 40 | kept newest 30 | 5 zeros lost in the trim's race | 20 written after it
    writeFileSync(file, 'h'.repeat(10) + '\0'.repeat(40) + 't'.repeat(30) + '\0'.repeat(5) + 'n'.repeat(20));
    const dropped = { from: 10, to: 50, lostAt: 80 };
    const read = (offset: number, maxBytes: number) => readLogSlice(file, { offset, maxBytes, settled: true, dropped });
    assert.deepEqual(await read(50, 100), { text: 't'.repeat(30) + 'n'.repeat(20), offset: 50, nextOffset: 105, totalBytes: 105 });
    assert.deepEqual(await read(82, 10), { text: 'n'.repeat(7), offset: 85, nextOffset: 92, totalBytes: 105 });
    assert.deepEqual(await read(70, 12), { text: 't'.repeat(10), offset: 70, nextOffset: 82, totalBytes: 105 });
    const edges = readLogEdgesSync(file, 10, 40, dropped);
    assert.equal(edges.head.toString(), 'h'.repeat(10));
    assert.equal(edges.tail.toString(), 't'.repeat(15) + 'n'.repeat(20));
  });
});

describe('paging across the zeros a trim lost', () => {
  /** Reads from `offset` to the end with `maxBytes` slices; every read must make progress. */
  async function pageAll(file: string, offset: number, maxBytes: number, dropped: { from: number; to: number; lostAt: number }): Promise<string> {
    let text = '';
    const totalBytes = statSync(file).size;
    while (offset < totalBytes) {
      const slice = await readLogSlice(file, { offset, maxBytes, settled: true, dropped });
      assert.ok(slice.nextOffset > offset, `the read at ${offset} makes progress (next offset ${slice.nextOffset})`);
      text += slice.text;
      offset = slice.nextOffset;
    }
    return text;
  }

  it('a character cut at lostAt (its rest was lost) never stops a paging loop', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'cut.log');
    // 28 kept bytes, then the first two bytes of a € whose third byte was lost in the trim's race.
    const kept = Buffer.concat([Buffer.from('t'.repeat(28)), Buffer.from([0xe2, 0x82])]);
    writeFileSync(file, Buffer.concat([Buffer.from('h'.repeat(10)), Buffer.alloc(40), kept, Buffer.alloc(20), Buffer.from('n'.repeat(20))]));
    const dropped = { from: 10, to: 50, lostAt: 80 };
    for (const maxBytes of [4, 8, 16]) assert.equal(await pageAll(file, 50, maxBytes, dropped), 't'.repeat(28) + 'n'.repeat(20), `maxBytes ${maxBytes}`);
  });

  it('a lost run longer than a MiB (a flood writes ~1 MB while the trim reads its tail) reads without zeros', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'long.log');
    writeFileSync(file, Buffer.concat([Buffer.from('h'.repeat(10)), Buffer.alloc(40), Buffer.from('t'.repeat(30)), Buffer.alloc(3 * MiB), Buffer.from('n'.repeat(20))]));
    const dropped = { from: 10, to: 50, lostAt: 80 };
    const text = await pageAll(file, 50, 512 * 1024, dropped);
    assert.equal(text.indexOf('\0'), -1, 'no zeros');
    assert.equal(text, 't'.repeat(30) + 'n'.repeat(20));
    assert.equal(readLogEdgesSync(file, 10, 64, dropped).tail.toString(), 'n'.repeat(20), 'a tail that starts inside the zeros');
  });

  it('the edges never reach into the dropped range, even when fewer bytes than a tail were kept after it', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'short-tail.log');
    writeFileSync(file, Buffer.concat([Buffer.from('h'.repeat(10)), Buffer.alloc(100), Buffer.from('last line\n')]));
    const edges = readLogEdgesSync(file, 64, 64, { from: 10, to: 110, lostAt: 120 });
    assert.equal(edges.head.toString(), 'h'.repeat(10), 'the head stops where the range begins');
    assert.equal(edges.tail.toString(), 'last line\n', 'the tail starts where it ends');
    assert.equal(edges.totalBytes, 120);
  });
});

describe('a trim while a read is under way', () => {
  it('the read is done again with the new dropped range, so it never returns the fresh hole', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'race.log');
    writeFileSync(file, Array.from({ length: 800_000 }, (_, i) => `${i}`).join('\n') + '\n');
    const log = logOf(file, { bytes: statSync(file).size });
    assert.ok(log.outputBytes > 5 * MiB);
    // The read's first await lets the trimmer run (it does so in a timer), as a flood's watcher does.
    const reading = log.read({ offset: 2 * MiB, maxBytes: 4096, settled: false });
    log.trimIfOver(trimmer(4 * MiB));
    const slice = await reading;
    assert.ok(log.dropped, 'trimmed');
    assert.equal(slice.text.indexOf('\0'), -1, 'no zeros');
    assertConsecutive(slice.text);
    assert.deepEqual(slice.dropped, log.dropped, 'it says the read starts after the dropped range');
  });
});

describe('a preview read while a trim is under way', () => {
  it('is not kept as the final one: once the trim is done, the preview and its size are read again', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'ended.log');
    writeFileSync(file, Array.from({ length: 800_000 }, (_, i) => `${i}`).join('\n') + '\n');
    const size = statSync(file).size;
    // An ended task (nothing writes any more), its first preview asked for between the trim's truncate and
    // its write-back (as a tooltip or a bash tool moving it to the background can while its end waits).
    let midTrim: string | undefined;
    const log = logOf(file, { bytes: size });
    const trims = trimmer(4 * MiB);
    const run = trims.run.bind(trims);
    // The worker has cut the file and written the tail back, the task has not heard yet: read now.
    trims.run = async (job) => {
      const result = await run(job);
      midTrim ??= log.edges().preview();
      return result;
    };
    log.trimIfOver(trims);
    await log.trimDone;
    assert.ok(midTrim !== undefined && log.dropped, 'the preview was read mid-trim');
    const after = log.edges();
    assert.ok(after.preview().endsWith('\n799999\n'), 'the preview ends with the last line');
    assert.equal(after.totalBytes, size);
  });
});

describe('a trim soon after another', () => {
  it('does not keep the zeros the previous trim lost as output', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'twice.log');
    // head | dropped | kept newest | 5 MiB lost while that trim ran (a flood on a busy machine) | the last line
    const parts = [Buffer.alloc(MiB, 'h'), Buffer.alloc(MiB), Buffer.alloc(MiB, 't'), Buffer.alloc(5 * MiB), Buffer.from('last line\n')];
    writeFileSync(file, Buffer.concat(parts));
    const log = logOf(file, { bytes: statSync(file).size, dropped: { from: MiB, to: 2 * MiB, lostAt: 3 * MiB } });
    // Those lost zeros count as kept, so the log is over the cap again at once; its newest MiB is in them.
    log.trimIfOver(trimmer(4 * MiB));
    await log.trimDone;
    assert.notEqual(log.dropped?.to, 2 * MiB, 'trimmed again');
    let text = '';
    for (let offset = 0; offset < log.outputBytes; ) {
      const slice = await log.read({ offset, maxBytes: 512 * 1024, settled: true });
      text += slice.text;
      offset = slice.nextOffset;
    }
    assert.equal(text.indexOf('\0'), -1, 'no zeros');
    assert.equal(text, 'h'.repeat(MiB) + 'last line\n');
    // The trim kept only the last line (the rest of its tail was lost zeros): the preview's tail must not
    // reach back into the hole before it (a CI run showed "[binary output, 65536 bytes, not shown]").
    const preview = log.edges().preview();
    assert.ok(preview.endsWith('] ...\nlast line\n'), `the preview ends ${JSON.stringify(preview.slice(-80))}`);
  });
});

describe('a log whose last bytes were lost in a trim', () => {
  it('is not trimmed again and again: what counts is what the file holds', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'short.log');
    writeFileSync(file, Buffer.concat([Buffer.alloc(MiB, 'h'), Buffer.alloc(MiB), Buffer.alloc(MiB, 't')]));
    // The process wrote 5 MiB more between the trim's read and its truncate, then ended: they are gone, but
    // outputBytes (which never shrinks) counts them. A task's end waits for a trim, then checks again:
    // trimming again (which changes nothing) on every check kept it from ever ending.
    const log = logOf(file, { bytes: 8 * MiB, dropped: { from: MiB, to: 2 * MiB, lostAt: 3 * MiB } });
    log.trimIfOver(trimmer(4 * MiB));
    assert.equal(log.isTrimming, false, 'no trim: the log holds 2 MiB');
  });
});

describe('the trim worker', () => {
  it('trims a file, stops when idle, starts again for the next trim, and reports a failed step', async () => {
    env = await createTasksEnv();
    const file = path.join(env.dir, 'worker.log');
    writeFileSync(file, 'h'.repeat(10) + 'm'.repeat(100) + 't'.repeat(20));
    const worker = new LogTrimmer(4 * MiB, 50);
    try {
      assert.deepEqual(await worker.run({ path: file, from: 10, tailKeep: 20 }), { readStart: 110, bytesRead: 20, skip: 0 });
      assert.equal(readFileSync(file, 'latin1'), 'h'.repeat(10) + '\0'.repeat(100) + 't'.repeat(20));
      await until(() => !worker.workerRunning, 'the idle worker to stop');
      const missing = await worker.run({ path: path.join(env.dir, 'missing.log'), from: 10, tailKeep: 20 });
      assert.match(missing.error ?? '', /ENOENT/);
      assert.equal(missing.truncated, false, 'nothing was cut');
      assert.ok(worker.workerRunning, 'a new worker answered');
    } finally {
      worker.dispose();
    }
  });
});

const trimmers: LogTrimmer[] = [];
after(() => {
  for (const t of trimmers) t.dispose();
});

/** A cap for tests: disposed after the file's tests. */
function trimmer(maxBytes: number): LogTrimmer {
  const t = new LogTrimmer(maxBytes);
  trimmers.push(t);
  return t;
}

function logOf(file: string, state: LogState): TaskLog {
  return new TaskLog(file, { headBytes: 1024, tailBytes: 1024 }, state);
}

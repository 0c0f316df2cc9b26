// Output: the bounded head+tail memory, the log file read in byte slices (also while the task runs),
// UTF-8 safe cuts, and a flood that leaves memory bounded while the log keeps every byte.
import assert from 'node:assert/strict';
import { createReadStream, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HeadTailBuffer } from '../../src/core/tasks/outputBuffer';
import { completeLength, leadingContinuationBytes } from '../../src/core/tasks/outputText';
import { createTasksEnv, until, type TasksEnv } from '../support/tasksKit';

describe('HeadTailBuffer', () => {
  it('keeps everything while it fits', () => {
    const buffer = new HeadTailBuffer(8, 16);
    buffer.push(Buffer.from('hello '));
    buffer.push(Buffer.from('world'));
    assert.equal(buffer.totalBytes, 11);
    assert.equal(buffer.omittedBytes, 0);
    assert.equal(buffer.preview(), 'hello world');
    assert.equal(buffer.lastBytes(7).toString(), 'o world');
  });

  it('keeps the first and last bytes, drops the middle and says how many bytes were omitted', () => {
    const buffer = new HeadTailBuffer(4, 6);
    for (const piece of ['abcd', 'efgh', 'ijklmnop', 'qr', 'stuvwxyz']) buffer.push(Buffer.from(piece));
    assert.equal(buffer.totalBytes, 26);
    assert.equal(buffer.storedBytes, 10);
    assert.equal(buffer.omittedBytes, 16);
    assert.equal(buffer.headBytes().toString(), 'abcd');
    assert.equal(buffer.lastBytes(100).toString(), 'uvwxyz');
    assert.equal(buffer.preview(), 'abcd\n... [16 bytes omitted] ...\nuvwxyz');
  });

  it('wraps the tail ring correctly across many small and one huge push', () => {
    const buffer = new HeadTailBuffer(0, 5);
    const all: string[] = [];
    for (let i = 0; i < 50; i++) {
      const piece = String.fromCharCode(97 + (i % 26)).repeat((i % 3) + 1);
      all.push(piece);
      buffer.push(Buffer.from(piece));
      assert.equal(buffer.lastBytes(5).toString(), all.join('').slice(-5));
    }
    buffer.push(Buffer.from('0123456789'));
    assert.equal(buffer.lastBytes(5).toString(), '56789');
  });

  it('a smaller preview budget still shows both ends and never splits a character', () => {
    const buffer = new HeadTailBuffer(64, 64);
    buffer.push(Buffer.from('é'.repeat(60)));
    const preview = buffer.preview(21);
    assert.ok(!preview.includes('\uFFFD'), preview);
    assert.match(preview, /^é+\n\.\.\. \[\d+ bytes omitted\] \.\.\.\né+$/);
  });

  it('memory stays at head + tail capacity whatever is pushed', () => {
    const buffer = new HeadTailBuffer();
    const chunk = Buffer.alloc(65536, 120);
    for (let i = 0; i < 1000; i++) buffer.push(chunk);
    assert.equal(buffer.totalBytes, 65536 * 1000);
    assert.equal(buffer.storedBytes, 16 * 1024 + 64 * 1024);
  });
});

describe('UTF-8 edges', () => {
  it('finds continuation bytes at the start and an incomplete character at the end', () => {
    const euro = Buffer.from('€'); // e2 82 ac
    assert.equal(leadingContinuationBytes(euro.subarray(1)), 2);
    assert.equal(leadingContinuationBytes(Buffer.from('a')), 0);
    assert.equal(completeLength(Buffer.concat([Buffer.from('a'), euro.subarray(0, 2)])), 1);
    assert.equal(completeLength(Buffer.concat([Buffer.from('a'), euro])), 4);
    assert.equal(completeLength(Buffer.from('😀').subarray(0, 3)), 0);
  });
});

describe('readOutput', () => {
  let env: TasksEnv;
  beforeEach(async () => {
    env = await createTasksEnv();
  });
  afterEach(() => env.dispose());

  it('pages through the log from byte offsets, and defaults to the last maxBytes', async () => {
    const ended = await env.manager.waitForEnd(env.start('seq 1 3000').id); // 13893 bytes
    const total = ended.outputBytes;
    let offset = 0;
    let text = '';
    for (;;) {
      const slice = await env.manager.readOutput(ended.id, { offset, maxBytes: 4000 });
      assert.equal(slice.offset, offset);
      assert.equal(slice.totalBytes, total);
      text += slice.text;
      if (slice.nextOffset >= total) break;
      assert.equal(slice.nextOffset, offset + 4000);
      offset = slice.nextOffset;
    }
    assert.equal(text, Array.from({ length: 3000 }, (_, i) => `${i + 1}\n`).join(''));
    const last = await env.manager.readOutput(ended.id, { maxBytes: 10 });
    assert.deepEqual(last, { text: '2999\n3000\n', offset: total - 10, nextOffset: total, totalBytes: total });
  });

  it('reads while the task runs and continues from nextOffset', async () => {
    const gate = `${env.dir}/go`;
    const task = env.start(`echo first; while [ ! -e ${gate} ]; do sleep 0.02; done; echo second`);
    let slice = await env.manager.readOutput(task.id, { offset: 0 });
    await until(async () => {
      slice = await env.manager.readOutput(task.id, { offset: 0 });
      return slice.text === 'first\n';
    }, 'the first line in the log');
    assert.equal(env.manager.get(task.id)?.status, 'running');
    assert.equal(slice.nextOffset, 6);
    await import('node:fs/promises').then((fs) => fs.writeFile(gate, ''));
    await env.manager.waitForEnd(task.id);
    const rest = await env.manager.readOutput(task.id, { offset: slice.nextOffset });
    assert.deepEqual(rest, { text: 'second\n', offset: 6, nextOffset: 13, totalBytes: 13 });
  });

  it('never splits a multi-byte character at either edge of a slice', async () => {
    // 'a' then 100 × '€' (3 bytes each): byte offsets 2, 3 sit inside the first '€'.
    const ended = await env.manager.waitForEnd(env.start(`printf 'a'; for i in $(seq 1 100); do printf '€'; done`).id);
    const fromInside = await env.manager.readOutput(ended.id, { offset: 2, maxBytes: 10 });
    assert.equal(fromInside.offset, 4, 'moved past the split character');
    assert.equal(fromInside.text, '€€');
    assert.equal(fromInside.nextOffset, 10, 'stops before the character it could not finish');
    const last = await env.manager.readOutput(ended.id, { maxBytes: 8 });
    assert.equal(last.text, '€€');
    assert.equal(last.nextOffset, ended.outputBytes);
    assert.ok(!env.manager.outputPreview(ended.id, 50).includes('\uFFFD'));
  });
});

describe('flood', () => {
  let env: TasksEnv;
  beforeEach(async () => {
    env = await createTasksEnv();
  });
  afterEach(() => env.dispose());

  it('200 MB of output: memory holds only head + tail, the log has every byte', async () => {
    const bytes = 200 * 1000 * 1000;
    const task = env.start(`head -c ${bytes} /dev/zero | tr '\\0' x; echo; echo END`);
    const ended = await env.manager.waitForEnd(task.id);
    assert.equal(ended.status, 'completed');
    assert.equal(ended.outputBytes, bytes + 5);
    assert.equal(statSync(ended.logPath).size, bytes + 5);
    const preview = env.manager.outputPreview(ended.id);
    assert.ok(Buffer.byteLength(preview) <= 16 * 1024 + 64 * 1024 + 100, `preview is ${Buffer.byteLength(preview)} bytes`);
    assert.match(preview, new RegExp(`^x{16384}\\n\\.\\.\\. \\[${bytes + 5 - 16384 - 65536} bytes omitted\\] \\.\\.\\.\\nx+\\nEND\\n$`));
    // Every byte on disk is what the command printed.
    const xs = Buffer.alloc(1 << 20, 'x');
    let checked = 0;
    let allX = true;
    for await (const chunk of createReadStream(ended.logPath, { end: bytes - 1, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      allX &&= chunk.equals(xs.subarray(0, chunk.length));
      checked += chunk.length;
    }
    assert.equal(checked, bytes);
    assert.ok(allX, 'every byte before the END line is an x');
    assert.equal((await env.manager.readOutput(ended.id, { maxBytes: 6 })).text, 'x\nEND\n');
  });
});

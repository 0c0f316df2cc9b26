// Output the model cannot use is described, not pasted: binary output, NUL bytes, invalid UTF-8 and stray
// control characters, through the real tools and real processes (and the text functions on their own).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HeadTailBuffer } from '../../src/core/tasks/outputBuffer';
import { binaryNote, decodeReadable, escapeControls, hexPreview, looksBinary, readableTerminalText } from '../../src/core/tasks/outputText';
import { executeTool } from '../../src/core/tools';
import { createToolEnv, type ToolEnv } from '../support/toolEnv';

describe('output text', () => {
  it('calls random bytes, an ELF header and NUL-heavy data binary, and text with a few odd bytes text', () => {
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 2654435761) % 251));
    assert.equal(looksBinary(random), true);
    assert.equal(looksBinary(Buffer.concat([Buffer.from('\x7fELF\x02\x01\x01'), Buffer.alloc(200)])), true);
    assert.equal(looksBinary(Buffer.from('plain text\nwith lines\n')), false);
    assert.equal(looksBinary(Buffer.from('caf\xe9 au lait, na\xefve: Latin-1 in a long enough line of text here', 'latin1')), false);
    assert.equal(looksBinary(Buffer.from('./a.txt\0./src/b.ts\0./src/c/d.ts\0./README.md\0')), false, 'find -print0 output stays text');
    assert.equal(looksBinary(Buffer.from('\x1b[31merror\x1b[0m\r\nprogress 10%\rprogress 100%\n')), false);
  });

  it('writes bytes that are not UTF-8 as \\xNN, never as U+FFFD, and sums up a long run', () => {
    assert.equal(decodeReadable(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x21])), 'caf\\xe9!');
    assert.equal(decodeReadable(Buffer.from('€ ok')), '€ ok');
    const long = decodeReadable(Buffer.concat([Buffer.from('x'), Buffer.alloc(20, 0xff), Buffer.from('y')]));
    assert.equal(long, 'x\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff[… 12 more bytes that are not UTF-8]y');
    assert.ok(!long.includes('\uFFFD'));
    // Overlong encodings and surrogates are not UTF-8 either.
    assert.equal(decodeReadable(Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80])), '\\xc0\\xaf\\xed\\xa0\\x80');
  });

  it('escapes control characters left after terminal escapes are applied', () => {
    assert.equal(escapeControls('bell\x07 nul\x00 tab\tok\nC1\u0085'), 'bell\\x07 nul\\x00 tab\tok\nC1\\u0085');
    assert.equal(readableTerminalText('\x1b[32mok\x1b[0m\n10%\r100%\nstray\x1bX\x01\n'), 'ok\n100%\nstray\\x01\n');
  });

  it('describes a binary part of a long output on its own: text after binary bytes is still shown', () => {
    const buffer = new HeadTailBuffer(1024, 4096);
    buffer.push(Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 97) % 256)));
    buffer.push(Buffer.alloc(10_000, 0x2e));
    buffer.push(Buffer.from('\nbuild finished\n'));
    const preview = buffer.preview(2048);
    assert.match(preview, /^\[binary output, 512 bytes, not shown\]\n\.\.\. \[\d+ bytes omitted\] \.\.\.\n/);
    assert.match(preview, /build finished\n$/);
  });

  it('shows binary data to a person as a hex dump', () => {
    assert.equal(hexPreview(Buffer.from('AB\x00\x01'), 16), `00000010  ${'41 42 00 01'.padEnd(47)}  AB..`);
    assert.equal(binaryNote(12), '[binary output, 12 bytes, not shown]');
  });
});

describe('binary output through the tools', () => {
  let env: ToolEnv;
  beforeEach(async () => {
    env = await createToolEnv();
  });
  afterEach(() => env.dispose());

  const BINARY = "head -c 6000 /dev/urandom; printf '\\0\\0\\0'";

  it('bash says "binary output, N bytes, not shown"', async () => {
    const result = await executeTool('bash', { command: BINARY }, env.ctx());
    assert.equal(result.isError, false);
    assert.equal(result.content.split('\n')[1], '[binary output, 6003 bytes, not shown]');
    assert.ok(result.content.length < 200, result.content);
  });

  it('check_background and the end notification describe it too', async () => {
    const started = await executeTool('background_run', { command: BINARY }, env.ctx());
    const id = /task (\S+) started/.exec(started.content)?.[1] ?? '';
    await env.manager.waitForEnd(id);
    const checked = await executeTool('check_background', { task_id: id }, env.ctx());
    assert.match(checked.content, /\n\[binary output, \d+ bytes, not shown\]\n\[end of output\]$/);
    const [notification] = env.manager.notifications.drain(env.conversationId);
    assert.equal(notification.outputTail, '[binary output, 6003 bytes, not shown]');
  });

  it('text with a stray byte, a bell and colours stays text, with the odd bytes escaped', async () => {
    const result = await executeTool('bash', { command: "printf 'caf\\351 \\a\\033[1mbold\\033[0m\\nnext\\n'" }, env.ctx());
    assert.equal(result.content, 'Exit code 0 (' + /\(([^)]*)\)/.exec(result.content)?.[1] + ').\ncaf\\xe9 \\x07bold\nnext');
    assert.ok(!result.content.includes('\uFFFD'));
  });
});

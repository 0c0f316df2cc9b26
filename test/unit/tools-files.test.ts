// read_file, write_file, edit_file against a real temporary workspace, including escapes by `..` and symlinks.
import assert from 'node:assert/strict';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { executeTool } from '../../src/core/tools';
import { createToolEnv, type ToolEnv } from '../support/toolEnv';

let env: ToolEnv;
before(async () => {
  env = await createToolEnv();
  await writeFile(path.join(env.outside, 'secret.txt'), 'top secret\n');
  await symlink(env.outside, path.join(env.cwd, 'door'));
  await mkdir(path.join(env.cwd, 'inner'));
  await symlink(path.join(env.cwd, 'inner'), path.join(env.cwd, 'inner-link'));
});
after(() => env.dispose());

const run = (name: string, input: unknown) => executeTool(name, input, env.ctx());

describe('read_file', () => {
  before(async () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join('\n');
    await writeFile(path.join(env.cwd, 'fifty.txt'), `${lines}\n`);
  });

  it('returns numbered lines and says it reached the end', async () => {
    const result = await run('read_file', { path: 'fifty.txt' });
    assert.equal(result.isError, false);
    assert.match(result.content, /^ {5}1\tline 1\n {5}2\tline 2\n/);
    assert.match(result.content, /50\tline 50\n\(fifty\.txt: lines 1–50, end of file\)$/);
  });

  it('reads a window with offset and limit and says where to continue', async () => {
    const result = await run('read_file', { path: 'fifty.txt', offset: 10, limit: 3 });
    const lines = result.content.split('\n');
    assert.deepEqual(lines.slice(0, 3), ['    10\tline 10', '    11\tline 11', '    12\tline 12']);
    assert.match(lines[3], /lines 10–12 shown; the limit of 3 lines was reached\. More follows: call read_file with offset 13/);
  });

  it('accepts an absolute path inside the workspace', async () => {
    const result = await run('read_file', { path: path.join(env.cwd, 'fifty.txt'), limit: 1 });
    assert.equal(result.isError, false);
    assert.match(result.content, /^ {5}1\tline 1\n/);
  });

  it('cuts a huge file by size and says which offset reads on', async () => {
    const big = Array.from({ length: 5000 }, (_, i) => `${i + 1} ${'x'.repeat(60)}`).join('\n');
    await writeFile(path.join(env.cwd, 'big.txt'), big);
    const result = await run('read_file', { path: 'big.txt' });
    assert.equal(result.isError, false);
    assert.ok(Buffer.byteLength(result.content) <= 65 * 1024, `bounded: ${Buffer.byteLength(result.content)} bytes`);
    const match = /the 64 KiB limit was reached\. More follows: call read_file with offset (\d+)/.exec(result.content);
    assert.ok(match, result.content.slice(-300));
    const next = await run('read_file', { path: 'big.txt', offset: Number(match[1]), limit: 1 });
    assert.match(next.content, new RegExp(`^ *${match[1]}\\t${match[1]} x`));
  });

  it('cuts very long lines', async () => {
    await writeFile(path.join(env.cwd, 'minified.js'), 'y'.repeat(10_000));
    const result = await run('read_file', { path: 'minified.js' });
    assert.match(result.content, /y{2000} … \[line cut: 10000 characters\]/);
  });

  it('cuts a huge line without holding it, keeps characters whole, reads CRLF files and a last line without a newline', async () => {
    // 40 MB on one line: only its first characters are kept, the rest is counted.
    await writeFile(path.join(env.cwd, 'bundle.js'), `${'é'.repeat(20_000_000)}\r\nsecond\r\nlast`);
    const result = await run('read_file', { path: 'bundle.js' });
    assert.equal(result.isError, false);
    const lines = result.content.split('\n');
    assert.equal(lines[0], `     1\t${'é'.repeat(2000)} … [line cut: 20000000 characters]`);
    assert.deepEqual(lines.slice(1), ['     2\tsecond', '     3\tlast', '(bundle.js: lines 1–3, end of file)']);
    const past = await run('read_file', { path: 'bundle.js', offset: 4 });
    assert.equal(past.content, 'bundle.js has 3 lines; offset 4 is past the end.');
  });

  it('refuses binary files, directories, missing files and offsets past the end', async () => {
    await writeFile(path.join(env.cwd, 'image.bin'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]));
    const cases: [unknown, RegExp][] = [
      [{ path: 'image.bin' }, /image\.bin is a binary file \(8 bytes\); read_file only reads text/],
      [{ path: 'inner' }, /inner is a directory/],
      [{ path: 'nope.txt' }, /File not found: nope\.txt/],
      [{ path: 'fifty.txt', offset: 51 }, /fifty\.txt has 50 lines; offset 51 is past the end/],
    ];
    for (const [input, message] of cases) {
      const result = await run('read_file', input);
      assert.equal(result.isError, true, JSON.stringify(input));
      assert.match(result.content, message);
    }
  });

  it('says so when a file is empty', async () => {
    await writeFile(path.join(env.cwd, 'empty.txt'), '');
    assert.deepEqual(await run('read_file', { path: 'empty.txt' }), { isError: false, content: 'empty.txt is empty.' });
  });
});

describe('staying inside the workspace', () => {
  const escapes: [string, string][] = [
    ['.. escape', '../outside/secret.txt'],
    ['.. inside a longer path', 'inner/../../outside/secret.txt'],
    ['absolute path outside', '/etc/hostname'],
    ['symlink to a folder outside', 'door/secret.txt'],
  ];
  for (const [label, target] of escapes) {
    it(`read_file refuses a ${label}`, async () => {
      const result = await run('read_file', { path: target });
      assert.equal(result.isError, true);
      assert.match(result.content, /is outside the workspace/);
    });
  }

  it('write_file refuses to create a file through a symlink that leads outside', async () => {
    const result = await run('write_file', { path: 'door/new/planted.txt', content: 'x' });
    assert.equal(result.isError, true);
    assert.match(result.content, /`path` "door\/new\/planted\.txt" is outside the workspace/);
    await assert.rejects(readFile(path.join(env.outside, 'new', 'planted.txt')));
  });

  it('edit_file refuses a file reached through a symlinked file pointing outside', async () => {
    await symlink(path.join(env.outside, 'secret.txt'), path.join(env.cwd, 'secret-link.txt'));
    const result = await run('edit_file', { path: 'secret-link.txt', old_text: 'top', new_text: 'no' });
    assert.equal(result.isError, true);
    assert.equal(await readFile(path.join(env.outside, 'secret.txt'), 'utf8'), 'top secret\n');
  });

  it('follows a symlink that stays inside', async () => {
    const result = await run('write_file', { path: 'inner-link/ok.txt', content: 'fine\n' });
    assert.equal(result.isError, false, result.content);
    assert.equal(await readFile(path.join(env.cwd, 'inner', 'ok.txt'), 'utf8'), 'fine\n');
  });

  it('background_run refuses a cwd outside', async () => {
    const result = await run('background_run', { command: 'pwd', cwd: '../outside' });
    assert.equal(result.isError, true);
    assert.match(result.content, /`cwd` "\.\.\/outside" is outside the workspace/);
    assert.equal(env.manager.list().length, 0, 'nothing was started');
  });
});

describe('write_file', () => {
  it('creates missing parent folders and reports the size', async () => {
    const result = await run('write_file', { path: 'a/b/c/new.txt', content: 'one\ntwo\n' });
    assert.deepEqual(result, { isError: false, content: 'Created a/b/c/new.txt (2 lines, 8 bytes).' });
    assert.equal(await readFile(path.join(env.cwd, 'a/b/c/new.txt'), 'utf8'), 'one\ntwo\n');
  });

  it('overwrites an existing file', async () => {
    await run('write_file', { path: 'over.txt', content: 'old' });
    const result = await run('write_file', { path: 'over.txt', content: 'new' });
    assert.match(result.content, /^Overwrote over\.txt/);
    assert.equal(await readFile(path.join(env.cwd, 'over.txt'), 'utf8'), 'new');
  });

  it('refuses to replace a directory', async () => {
    const result = await run('write_file', { path: 'inner', content: 'x' });
    assert.equal(result.isError, true);
    assert.match(result.content, /inner is a directory/);
  });
});

describe('edit_file', () => {
  const file = () => path.join(env.cwd, 'code.ts');
  before(() => writeFile(file(), 'const a = 1;\nconst b = 1;\nconst c = 2;\n'));

  it('replaces exactly one occurrence and says where', async () => {
    const result = await run('edit_file', { path: 'code.ts', old_text: 'const c = 2;', new_text: 'const c = 3;' });
    assert.deepEqual(result, { isError: false, content: 'Edited code.ts: replaced 1 occurrence at line 3.' });
    assert.equal(await readFile(file(), 'utf8'), 'const a = 1;\nconst b = 1;\nconst c = 3;\n');
  });

  it('refuses a file too large to hold in memory, pointing to bash', async () => {
    await writeFile(path.join(env.cwd, 'huge.log'), Buffer.alloc(10 * 1024 * 1024 + 1, 'a'));
    const result = await run('edit_file', { path: 'huge.log', old_text: 'a', new_text: 'b' });
    assert.deepEqual(result, { isError: true, content: 'huge.log is 10485761 bytes, more than edit_file handles (10 MiB); change it with a command (sed, a script) through bash.' });
  });

  it('refuses text that occurs twice and leaves the file alone', async () => {
    const before = await readFile(file(), 'utf8');
    const result = await run('edit_file', { path: 'code.ts', old_text: ' = 1;', new_text: ' = 9;' });
    assert.equal(result.isError, true);
    assert.match(result.content, /`old_text` occurs 2 times in code\.ts; include more surrounding lines/);
    assert.equal(await readFile(file(), 'utf8'), before);
  });

  it('refuses text that does not occur', async () => {
    const result = await run('edit_file', { path: 'code.ts', old_text: 'const d', new_text: 'x' });
    assert.equal(result.isError, true);
    assert.match(result.content, /`old_text` was not found in code\.ts/);
  });

  it('inserts replacement text literally ($& and $1 are not patterns)', async () => {
    await run('edit_file', { path: 'code.ts', old_text: 'const a = 1;', new_text: "const a = '$&$1';" });
    assert.match(await readFile(file(), 'utf8'), /^const a = '\$&\$1';\n/);
  });

  it('matches a file with CRLF line endings and keeps them', async () => {
    await writeFile(path.join(env.cwd, 'win.txt'), 'one\r\ntwo\r\nthree\r\n');
    const result = await run('edit_file', { path: 'win.txt', old_text: 'one\ntwo', new_text: 'uno\ndos' });
    assert.equal(result.isError, false, result.content);
    assert.equal(await readFile(path.join(env.cwd, 'win.txt'), 'utf8'), 'uno\r\ndos\r\nthree\r\n');
  });

  it('says a missing file must be created with write_file', async () => {
    const result = await run('edit_file', { path: 'missing.ts', old_text: 'a', new_text: 'b' });
    assert.equal(result.isError, true);
    assert.match(result.content, /File not found: missing\.ts; use write_file/);
  });
});

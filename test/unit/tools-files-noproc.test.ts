// The file tools where there is no /proc (macOS, Windows), run on Linux by pretending to be macOS: folders
// are checked by path, opened files by device and inode. The same refusals must hold, short of the races
// this fallback cannot see (README says so).
import '../support/pretendDarwin';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { link, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VerifiedFolder } from '../../src/core/files/verifiedOpen';
import { executeTool } from '../../src/core/tools';
import { createToolEnv, type ToolEnv } from '../support/toolEnv';

let env: ToolEnv;
before(async () => {
  env = await createToolEnv();
  await writeFile(path.join(env.outside, 'secret.txt'), 'top secret\n');
});
after(() => env.dispose());

const run = (name: string, input: unknown) => executeTool(name, input, env.ctx());

describe('file tools without /proc', () => {
  it('runs the fallback: a folder is not held open and has no entry path for tasks', async () => {
    assert.equal(process.platform, 'darwin');
    const folder = await VerifiedFolder.open(env.cwd, env.cwd, { create: false, display: '.' });
    assert.equal(folder.entryPath, undefined);
    assert.equal(folder.child('x'), path.join(env.cwd, 'x'));
    await folder.close();
  });

  it('reads, creates (with folders), overwrites and edits inside the workspace', async () => {
    assert.equal((await run('write_file', { path: 'a/b/new.txt', content: 'one\n' })).content, 'Created a/b/new.txt (1 lines, 4 bytes).');
    assert.match((await run('write_file', { path: 'a/b/new.txt', content: 'two\n' })).content, /^Overwrote/);
    assert.equal((await run('edit_file', { path: 'a/b/new.txt', old_text: 'two', new_text: 'three' })).isError, false);
    assert.match((await run('read_file', { path: 'a/b/new.txt' })).content, /1\tthree/);
  });

  it('refuses symlinks out, dangling links and FIFOs, and leaves a hard-linked outside file alone', async () => {
    await symlink(env.outside, path.join(env.cwd, 'door'));
    await symlink(path.join(env.outside, 'nowhere.txt'), path.join(env.cwd, 'dangling'));
    execFileSync('mkfifo', [path.join(env.cwd, 'pipe')]);
    assert.match((await run('read_file', { path: 'door/secret.txt' })).content, /is outside the workspace/);
    assert.match((await run('write_file', { path: 'door/planted.txt', content: 'x' })).content, /is outside the workspace/);
    assert.match((await run('write_file', { path: 'dangling', content: 'x' })).content, /whose target does not exist/);
    assert.match((await run('read_file', { path: 'pipe' })).content, /named pipe \(FIFO\)/);
    await link(path.join(env.outside, 'secret.txt'), path.join(env.cwd, 'hard.txt'));
    assert.equal((await run('edit_file', { path: 'hard.txt', old_text: 'top', new_text: 'no' })).isError, false);
    assert.equal(await readFile(path.join(env.outside, 'secret.txt'), 'utf8'), 'top secret\n');
    await assert.rejects(stat(path.join(env.outside, 'planted.txt')));
    await assert.rejects(stat(path.join(env.outside, 'nowhere.txt')));
  });

  it('background_run still refuses a cwd outside', async () => {
    assert.match((await run('background_run', { command: 'pwd', cwd: 'door' })).content, /is outside the workspace/);
    assert.equal(env.manager.list().length, 0);
  });
});

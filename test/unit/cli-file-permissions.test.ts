// write_file and edit_file keep what a file is when a rename cannot: the CLI, run as an ordinary user (as
// `nobody` when the tests run as root, as root ignores permissions), against files whose folder takes no new
// file, files someone else owns, read-only files and hard-linked ones.
import assert from 'node:assert/strict';
import { chmod, chown, link, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { blocksOf, messagesOf } from '../support/agentHarness';
import { killLeftoverClis, runCli } from '../support/cliProcess';
import { startScriptedServer, textReply, toolCalls, type ScriptedServer } from '../support/scriptedServer';

const asRoot = process.getuid?.() === 0;
const NOBODY = 65534;
const user = asRoot ? { uid: NOBODY, gid: NOBODY } : undefined;

let server: ScriptedServer;
let root: string;
let workspace: string;
before(async () => {
  server = await startScriptedServer();
  root = await mkdtemp(path.join(tmpdir(), 'ba-perms-'));
  workspace = path.join(root, 'workspace');
  await chmod(root, 0o755);
  await mkdir(path.join(workspace, 'ro'), { recursive: true });
  await mkdir(path.join(workspace, 'shared'));
  const own = async (file: string) => user && chown(file, user.uid, user.gid);
  await writeFile(path.join(workspace, 'ro', 'notes.txt'), 'old notes\n');
  await writeFile(path.join(workspace, 'ro', 'twice.txt'), 'linked\n');
  await link(path.join(workspace, 'ro', 'twice.txt'), path.join(workspace, 'twice-too.txt'));
  await writeFile(path.join(workspace, 'locked.txt'), 'locked\n');
  await writeFile(path.join(workspace, 'shared', 'theirs.txt'), 'theirs\n');
  for (const file of ['workspace', 'workspace/ro', 'workspace/shared', 'workspace/ro/notes.txt', 'workspace/ro/twice.txt', 'workspace/locked.txt']) await own(path.join(root, file));
  await chmod(path.join(workspace, 'ro'), 0o555);
  await chmod(path.join(workspace, 'locked.txt'), 0o444);
  // Root's file, writable by all, in a folder the user may write: a rename would make it the user's.
  await chmod(path.join(workspace, 'shared', 'theirs.txt'), 0o666);
});
after(async () => {
  killLeftoverClis();
  await server.close();
  await chmod(path.join(workspace, 'ro'), 0o755).catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

describe('cli: writes that a rename would get wrong', () => {
  it('writes in place where the folder takes no new file or the owner must stay, and refuses read-only and linked files', async () => {
    const calls = [
      { name: 'write_file', input: { path: 'ro/notes.txt', content: 'new notes\n' } },
      { name: 'edit_file', input: { path: 'ro/twice.txt', old_text: 'linked', new_text: 'changed' } },
      { name: 'write_file', input: { path: 'locked.txt', content: 'unlocked\n' } },
      ...(asRoot ? [{ name: 'edit_file', input: { path: 'shared/theirs.txt', old_text: 'theirs', new_text: 'still theirs' } }] : []),
    ];
    server.enqueue(toolCalls(calls), textReply('Done.'));
    const inode = (await stat(path.join(workspace, 'ro', 'notes.txt'))).ino;
    const run = runCli(['-p', 'change the files', '--allow-edits'], { baseURL: server.url, cwd: workspace, user });
    const { code } = await run.exited;
    assert.equal(code, 0, run.stderr());
    const results = blocksOf(messagesOf(server.requests[1]).at(-1)).filter((b) => b.type === 'tool_result');
    const texts = results.map((r) => JSON.stringify(r.content));
    assert.match(texts[0], /Overwrote ro\/notes\.txt/);
    assert.equal(await readFile(path.join(workspace, 'ro', 'notes.txt'), 'utf8'), 'new notes\n');
    assert.equal((await stat(path.join(workspace, 'ro', 'notes.txt'))).ino, inode, 'written in place');
    assert.match(texts[1], /ro\/twice\.txt has 2 hard links and cannot be replaced here/);
    assert.equal(await readFile(path.join(workspace, 'twice-too.txt'), 'utf8'), 'linked\n');
    assert.match(texts[2], /locked\.txt is read-only \(mode 444\); nothing was written/);
    assert.equal(await readFile(path.join(workspace, 'locked.txt'), 'utf8'), 'locked\n');
    if (asRoot) {
      assert.match(texts[3], /Edited shared\/theirs\.txt/);
      const theirs = await stat(path.join(workspace, 'shared', 'theirs.txt'));
      assert.equal(theirs.uid, 0, 'still root’s file');
      assert.equal(await readFile(path.join(workspace, 'shared', 'theirs.txt'), 'utf8'), 'still theirs\n');
    }
  });
});

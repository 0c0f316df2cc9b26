// The file tools against the tricks a security review used to get out of the workspace, hang them or corrupt
// a file (issue 16): each setup is built for real at run time in a temporary workspace.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { statSync, watch } from 'node:fs';
import { chmod, link, mkdir, readFile, readdir, readlink, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { withinTime } from '../../src/core/files/withinTime';
import { isInside } from '../../src/core/files/workspacePath';
import { executeTool } from '../../src/core/tools';
import { createToolEnv, type ToolEnv } from '../support/toolEnv';

let env: ToolEnv;
before(async () => {
  env = await createToolEnv();
  await writeFile(path.join(env.outside, 'secret.txt'), 'top secret\n');
});
after(() => env.dispose());

const run = (name: string, input: unknown, signal?: AbortSignal) => executeTool(name, input, env.ctx(signal));
const secret = () => readFile(path.join(env.outside, 'secret.txt'), 'utf8');

describe('a symlink chain whose real path is longer than PATH_MAX', () => {
  // The review's recipe: 17 nested 250-character folders; `s` leads 10 deep to `t`, which goes 7 deeper and
  // climbs back out. realpath() gives up (ENAMETOOLONG) while the kernel still follows it.
  const D = 'D'.repeat(250);
  const deep = (n: number): string => Array.from({ length: n }, () => D).join('/');
  before(async () => {
    // Built with relative steps in a shell: no single path given to mkdir or ln may exceed PATH_MAX.
    const back = '../'.repeat(17);
    const script = [
      'set -e',
      `cd ${JSON.stringify(env.cwd)}`,
      // The shell's own cd fails past PATH_MAX: 16 levels by cd, the 17th made from there, back up to the 10th.
      ...Array.from({ length: 16 }, () => `mkdir ${D} && cd ${D}`),
      `mkdir ${D}`,
      `cd ${deep(6).replace(/D+/g, '..')}`,
      `ln -s '${deep(7)}/${back}../outside/secret.txt' t`,
      `ln -s '${deep(7)}/${back}../outside/planted.txt' new`,
      `ln -s '${deep(7)}/${back}../outside' dir`,
      `cd ${JSON.stringify(env.cwd)}`,
      `ln -s '${deep(10)}/t' s && ln -s '${deep(10)}/new' s-new && ln -s '${deep(10)}/dir' s-dir`,
    ].join('\n');
    execFileSync('/bin/sh', ['-c', script]);
    // The kernel does reach the outside file through it: the setup is the real attack.
    assert.equal(await readFile(path.join(env.cwd, 's'), 'utf8'), 'top secret\n');
  });
  // Node's rm cannot remove a tree deeper than PATH_MAX; GNU rm walks it by descriptors.
  after(() => execFileSync('rm', ['-rf', D], { cwd: env.cwd }));

  it('read_file, edit_file and write_file refuse it and say why', async () => {
    for (const [name, input] of [
      ['read_file', { path: 's' }],
      ['edit_file', { path: 's', old_text: 'top', new_text: 'no' }],
      ['write_file', { path: 's', content: 'owned\n' }],
      ['write_file', { path: 's-new', content: 'planted\n' }],
    ] as const) {
      const result = await run(name, input);
      assert.equal(result.isError, true, `${name}: ${result.content}`);
      assert.match(result.content, /cannot be resolved at s(-new)? \((ENAMETOOLONG|realpath says ENOENT, yet it exists)\)/, name);
      assert.doesNotMatch(result.content, /top secret/);
    }
    assert.equal(await secret(), 'top secret\n');
    await assert.rejects(stat(path.join(env.outside, 'planted.txt')), 'nothing was created outside');
  });

  it('background_run refuses it as a cwd and starts nothing', async () => {
    const result = await run('background_run', { command: 'pwd', cwd: 's-dir' });
    assert.equal(result.isError, true);
    assert.match(result.content, /`cwd` "s-dir" cannot be resolved at s-dir \((ENAMETOOLONG|realpath says ENOENT, yet it exists)\)/);
    assert.equal(env.manager.list().length, 0);
  });
});

describe('links', () => {
  it('write_file does not create a file through a dangling symlink', async () => {
    await symlink(path.join(env.outside, 'dangling-target.txt'), path.join(env.cwd, 'dangling'));
    const result = await run('write_file', { path: 'dangling', content: 'x' });
    assert.equal(result.isError, true);
    assert.match(result.content, /goes through a symbolic link \(dangling\) whose target does not exist/);
    await assert.rejects(stat(path.join(env.outside, 'dangling-target.txt')));
  });

  it('write_file and edit_file on a hard link to an outside file leave the outside file alone', async () => {
    await writeFile(path.join(env.outside, 'linked.txt'), 'outside text\n');
    await link(path.join(env.outside, 'linked.txt'), path.join(env.cwd, 'hard.txt'));
    const edited = await run('edit_file', { path: 'hard.txt', old_text: 'outside', new_text: 'inside' });
    assert.equal(edited.isError, false, edited.content);
    assert.equal(await readFile(path.join(env.cwd, 'hard.txt'), 'utf8'), 'inside text\n');
    assert.equal(await readFile(path.join(env.outside, 'linked.txt'), 'utf8'), 'outside text\n');

    await link(path.join(env.outside, 'linked.txt'), path.join(env.cwd, 'hard2.txt'));
    const written = await run('write_file', { path: 'hard2.txt', content: 'mine\n' });
    assert.equal(written.isError, false, written.content);
    assert.equal(await readFile(path.join(env.outside, 'linked.txt'), 'utf8'), 'outside text\n');
    assert.equal((await stat(path.join(env.cwd, 'hard2.txt'))).nlink, 1, 'the workspace name is its own file now');
  });

  it('writes through a symlink that stays inside change its target and keep the link', async () => {
    await mkdir(path.join(env.cwd, 'docs'));
    await writeFile(path.join(env.cwd, 'docs', 'guide.md'), 'old guide\n');
    await symlink('docs/guide.md', path.join(env.cwd, 'GUIDE.md'));
    const result = await run('edit_file', { path: 'GUIDE.md', old_text: 'old', new_text: 'new' });
    assert.equal(result.isError, false, result.content);
    assert.equal(await readFile(path.join(env.cwd, 'docs', 'guide.md'), 'utf8'), 'new guide\n');
    assert.equal(await readlink(path.join(env.cwd, 'GUIDE.md')), 'docs/guide.md');
  });

  it('a write keeps the permission bits and leaves no temporary file behind', async () => {
    const script = path.join(env.cwd, 'run.sh');
    await writeFile(script, '#!/bin/sh\necho one\n');
    await chmod(script, 0o750);
    assert.equal((await run('edit_file', { path: 'run.sh', old_text: 'one', new_text: 'two' })).isError, false);
    assert.equal((await stat(script)).mode & 0o777, 0o750);
    assert.deepEqual((await readdir(env.cwd)).filter((name) => name.endsWith('.tmp')), []);
  });
});

describe('special files', () => {
  before(() => execFileSync('mkfifo', [path.join(env.cwd, 'pipe')]));

  it('read_file, write_file and edit_file refuse a FIFO at once, also many times over (no thread is left blocked)', async () => {
    const calls = Array.from({ length: 6 }, () => [
      run('read_file', { path: 'pipe' }),
      run('write_file', { path: 'pipe', content: 'x' }),
      run('edit_file', { path: 'pipe', old_text: 'a', new_text: 'b' }),
    ]).flat();
    const results = await Promise.race([Promise.all(calls), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('a call hung')), 10_000))]);
    for (const result of results) {
      assert.equal(result.isError, true);
      assert.match(result.content, /pipe is a named pipe \(FIFO\)/);
    }
    // The thread pool is free: an ordinary read still works.
    await writeFile(path.join(env.cwd, 'after.txt'), 'fine\n');
    assert.match((await run('read_file', { path: 'after.txt' })).content, /fine/);
  });

  it('a read that never finishes is given up on Stop, at once', async () => {
    const stop = new AbortController();
    const never = new Promise<string>(() => undefined);
    let workSignal: AbortSignal | undefined;
    const waiting = withinTime((signal) => ((workSignal = signal), never), 60_000, stop.signal, 'Reading slow.txt');
    stop.abort();
    await assert.rejects(waiting, /Reading slow\.txt was stopped by the person/);
    assert.equal(workSignal?.aborted, true, 'the work itself is told to stop');
  });

  it('Stop ends a long read_file scan and frees its file', async () => {
    // 64 GiB, sparse: text for its first 8 KiB, then no line end for as long as a read would take.
    const big = path.join(env.cwd, 'sparse.log');
    await writeFile(big, 'x'.repeat(8192));
    await truncate(big, 64 * 1024 ** 3);
    const stop = new AbortController();
    const reading = run('read_file', { path: 'sparse.log', offset: 5 }, stop.signal);
    await new Promise((resolve) => setTimeout(resolve, 300));
    stop.abort();
    assert.match((await reading).content, /Reading sparse\.log was stopped by the person/);
    const holds = async () => {
      const fds = await readdir('/proc/self/fd');
      const targets = await Promise.all(fds.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
      return targets.includes(big);
    };
    for (let i = 0; i < 50 && (await holds()); i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await holds(), false, 'the file is closed soon after Stop');
  });

  it('and after its time limit', async () => {
    await assert.rejects(withinTime(() => new Promise<string>(() => undefined), 50, new AbortController().signal, 'Reading slow.txt'), /took longer than 0\.05 s/);
  });
});

describe('files that are not UTF-8', () => {
  const latin1 = Buffer.concat([Buffer.from('caf'), Buffer.from([0xe9]), Buffer.from(' na'), Buffer.from([0xef]), Buffer.from('ve '), Buffer.from([0xff, 0xfe, 0x80, 0xc3]), Buffer.from(' word\n')]);
  before(() => writeFile(path.join(env.cwd, 'latin1.txt'), latin1));

  it('edit_file changes only the replaced bytes', async () => {
    const result = await run('edit_file', { path: 'latin1.txt', old_text: 'word', new_text: 'WORD' });
    assert.equal(result.isError, false, result.content);
    const expected = Buffer.from(latin1);
    expected.write('WORD', latin1.indexOf('word'), 'latin1');
    assert.deepEqual(await readFile(path.join(env.cwd, 'latin1.txt')), expected);
  });

  it('edit_file refuses non-ASCII new text there, saying why, and changes nothing', async () => {
    const before = await readFile(path.join(env.cwd, 'latin1.txt'));
    const result = await run('edit_file', { path: 'latin1.txt', old_text: 'WORD', new_text: 'mot é' });
    assert.equal(result.isError, true);
    assert.match(result.content, /latin1\.txt is not UTF-8 text .* `new_text` may only use ASCII characters there/);
    assert.deepEqual(await readFile(path.join(env.cwd, 'latin1.txt')), before);
  });

  it('read_file says which bytes it could not show', async () => {
    const result = await run('read_file', { path: 'latin1.txt' });
    assert.equal(result.isError, false);
    assert.match(result.content, /caf\uFFFD/);
    assert.match(result.content, /some lines have bytes that are not UTF-8 \(shown as \uFFFD\)/);
  });
});

describe('line ends', () => {
  it('edit_file in a CRLF file: \\n or \\r\\n in the texts, the file keeps \\r\\n and never gets \\r\\r\\n', async () => {
    const file = path.join(env.cwd, 'crlf.txt');
    await writeFile(file, 'a\r\nb\r\nc\r\n');
    assert.equal((await run('edit_file', { path: 'crlf.txt', old_text: 'a\nb', new_text: 'x\r\ny' })).isError, false);
    assert.equal(await readFile(file, 'utf8'), 'x\r\ny\r\nc\r\n');
    assert.equal((await run('edit_file', { path: 'crlf.txt', old_text: 'c', new_text: 'c\nd' })).isError, false);
    assert.equal(await readFile(file, 'utf8'), 'x\r\ny\r\nc\r\nd\r\n');
  });

  it('edit_file in an LF file with one stray CRLF still matches multi-line text as written', async () => {
    const file = path.join(env.cwd, 'mostly-lf.txt');
    await writeFile(file, 'one\ntwo\nthree\r\nfour\n');
    assert.equal((await run('edit_file', { path: 'mostly-lf.txt', old_text: 'one\ntwo', new_text: 'uno\ndos' })).isError, false);
    assert.equal(await readFile(file, 'utf8'), 'uno\ndos\nthree\r\nfour\n');
  });
});

describe('sizes and names', () => {
  it('a long written text is kept in the history as its start, never cutting a character in two', async () => {
    const { inputForHistory } = await import('../../src/core/tools');
    const kept = inputForHistory('write_file', { path: 'x', content: `${'a'.repeat(1999)}${'\u{1F600}'.repeat(40_000)}` });
    const text = String(kept?.content);
    assert.equal(Buffer.from(text).toString(), text, 'no lone surrogate (it would not survive UTF-8)');
    assert.ok(text.startsWith('a'.repeat(1999)) && text.length < 2200, text.slice(0, 50));
    assert.equal(inputForHistory('write_file', { path: 'x', content: 'short' }), undefined);
  });

  it('a file name of 255 bytes in UTF-8 can be written (the temporary name is cut by bytes)', async () => {
    const name = `${'\u6587'.repeat(85)}`;
    assert.equal(Buffer.byteLength(name), 255);
    assert.equal((await run('write_file', { path: name, content: 'long name\n' })).isError, false);
    assert.equal((await run('edit_file', { path: name, old_text: 'long', new_text: 'longest' })).isError, false);
    assert.equal(await readFile(path.join(env.cwd, name), 'utf8'), 'longest name\n');
  });

  it('an edit of a private file never shows its content to others on the way', async () => {
    // 8 MB, so that the temporary file exists long enough to be seen while it is written.
    const key = path.join(env.cwd, 'id.key');
    await writeFile(key, `secret key\n${'k'.repeat(8 * 1024 * 1024)}`);
    await chmod(key, 0o600);
    const seen: number[] = [];
    const watcher = watch(env.cwd, (_, name) => {
      if (!name?.startsWith('.id.key.')) return;
      try {
        seen.push(statSync(path.join(env.cwd, name)).mode & 0o777);
      } catch {
        // Renamed already.
      }
    });
    try {
      assert.equal((await run('edit_file', { path: 'id.key', old_text: 'secret', new_text: 'other' })).isError, false);
    } finally {
      watcher.close();
    }
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    assert.ok(seen.length > 0, 'the temporary file was seen');
    for (const mode of seen) assert.equal(mode, 0o600, `the temporary file had mode ${mode.toString(8)}`);
  });

  it('write_file refuses content over 1 MiB with a hint and writes nothing', async () => {
    const result = await run('write_file', { path: 'huge.txt', content: 'x'.repeat(1024 * 1024 + 1) });
    assert.equal(result.isError, true);
    assert.match(result.content, /`content` is 1048577 bytes, more than write_file takes \(1 MiB\); nothing was written\. Generate a file that large with a command/);
    await assert.rejects(stat(path.join(env.cwd, 'huge.txt')));
  });

  it('a file named ..notes is inside the workspace', async () => {
    assert.equal((await run('write_file', { path: '..notes', content: 'mine\n' })).isError, false);
    assert.match((await run('read_file', { path: '..notes' })).content, /mine/);
    assert.equal(isInside('/w', '/w/..notes'), true);
    assert.equal(isInside('/w', '/w/../x'), false);
    assert.equal(isInside('/w', '/w2'), false);
  });
});

describe('a folder swapped for a symlink while the tools use it (check-then-use race)', () => {
  // The review's setup: a child process swaps the folder `race` and a symlink `race-link` to the outside folder
  // with renameat2(RENAME_EXCHANGE) in a loop (perl, part of every Debian, makes the system call), while the
  // tools read and write `race/file.txt` a fixed number of times. Nothing may reach the outside.
  const RENAMEAT2: Partial<Record<string, number>> = { x64: 316, arm64: 276 };
  let swapper: ChildProcess;
  before(async () => {
    const call = RENAMEAT2[process.arch];
    if (call === undefined) throw new Error(`No renameat2 system call number known for ${process.arch}: add it to this test.`);
    await mkdir(path.join(env.cwd, 'race'));
    await writeFile(path.join(env.cwd, 'race', 'file.txt'), 'inside\n');
    await writeFile(path.join(env.outside, 'file.txt'), 'OUTSIDE\n');
    await symlink(env.outside, path.join(env.cwd, 'race-link'));
    const swap = `my ($a, $b) = ("race", "race-link"); $| = 1; print "ready\\n"; while (1) { syscall(${call}, -100, $a, -100, $b, 2) == 0 or die "renameat2: $!"; }`;
    swapper = spawn('perl', ['-e', swap], { cwd: env.cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve, reject) => {
      swapper.stdout?.once('data', resolve);
      swapper.once('exit', (code) => reject(new Error(`the swapper exited (${code})`)));
    });
  });
  after(() => {
    swapper.kill('SIGKILL');
  });

  it('no read, write or task start escapes, over hundreds of calls that meet both states', async () => {
    // How often a call meets the folder rather than the link depends on the machine's load (one CI run saw no
    // task start get through in 100), so the calls go on until both outcomes were met, within a bound.
    let reads = 0;
    let writes = 0;
    let calls = 0;
    for (; calls < 400 || ((reads === 0 || reads === calls || writes === 0 || writes === calls) && calls < 4000); calls++) {
      const read = await run('read_file', { path: 'race/file.txt' });
      assert.doesNotMatch(read.content, /OUTSIDE/, `read ${calls} escaped`);
      if (!read.isError) reads++;
      const write = await run('write_file', { path: `race/w${calls % 8}.txt`, content: `write ${calls}\n` });
      if (!write.isError) writes++;
    }
    // readlink asks the kernel where the task really is (a shell's `pwd -P` may resolve $PWD by name).
    let starts = 0;
    let ran = 0;
    const checkTask = async (id: string) => {
      const ended = await env.manager.waitForEnd(id);
      if (ended.status !== 'completed') return;
      ran++;
      const out = (await env.manager.readOutput(id)).text.trim();
      // The real folder only ever changes names between `race` and `race-link`, both inside.
      assert.ok(out === path.join(env.cwd, 'race') || out === path.join(env.cwd, 'race-link'), `task ${id} ran in ${out}`);
    };
    for (; starts < 100 || (ran === 0 && starts < 2000); starts++) {
      const result = await run('background_run', { command: 'readlink /proc/self/cwd', cwd: 'race' });
      const id = /^Background task (\S+) started/.exec(result.content)?.[1];
      if (id) await checkTask(id);
    }
    assert.equal(swapper.exitCode, null, 'the swapper ran all along');
    swapper.kill('SIGKILL');
    assert.equal(await readFile(path.join(env.outside, 'file.txt'), 'utf8'), 'OUTSIDE\n');
    assert.deepEqual((await readdir(env.outside)).sort(), ['file.txt', 'linked.txt', 'secret.txt'], 'nothing was written outside');
    // The race was real: calls met both states (some were refused, some went through).
    assert.ok(reads > 0 && reads < calls && writes > 0 && writes < calls, `reads ${reads}, writes ${writes} of ${calls}`);
    assert.ok(ran > 0 && ran < starts, `tasks that ran: ${ran} of ${starts}`);
  });
});

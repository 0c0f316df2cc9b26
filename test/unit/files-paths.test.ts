// The workspace boundary's path arithmetic on every OS, run here with Node's path.win32 and path.posix:
// drive letters, case, UNC shares, and `..notes` (a name, not a way up). Plus the names Windows would
// change before use (a trailing dot, a stream, a device), which the checks must refuse to see past.
import assert from 'node:assert/strict';
import { mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isInside, resolveInWorkspace, windowsNameProblem } from '../../src/core/files/workspacePath';

describe('isInside with Windows paths (path.win32)', () => {
  const inside = (root: string, candidate: string) => isInside(root, candidate, path.win32);
  const golden: [string, string, boolean][] = [
    ['C:\\proj', 'C:\\proj', true],
    ['C:\\proj', 'C:\\proj\\src\\a.ts', true],
    ['C:\\proj', 'C:\\proj\\..notes', true],
    ['C:\\proj', 'C:\\proj\\src\\..notes\\x', true],
    ['C:\\proj', 'c:\\PROJ\\Src\\a.ts', true], // Windows names are case-insensitive, drive letters too
    ['C:\\proj\\', 'C:\\proj\\a', true],
    ['C:\\proj', 'C:/proj/a', true],
    ['C:\\proj', 'C:\\proj\\..', false],
    ['C:\\proj', 'C:\\proj\\..\\x', false],
    ['C:\\proj', 'C:\\projX', false],
    ['C:\\proj', 'C:\\', false],
    ['C:\\proj', 'D:\\proj', false], // another drive: relative() is absolute
    ['C:\\proj', 'D:\\proj\\a', false],
    ['C:\\', 'C:\\anything', true],
    ['C:\\', 'D:\\anything', false],
    ['\\\\server\\share\\proj', '\\\\server\\share\\proj\\a.txt', true],
    ['\\\\server\\share\\proj', '\\\\SERVER\\Share\\proj\\a.txt', true],
    ['\\\\server\\share\\proj', '\\\\server\\share\\proj\\..notes', true],
    ['\\\\server\\share\\proj', '\\\\server\\share\\projX', false],
    ['\\\\server\\share\\proj', '\\\\server\\share', false],
    ['\\\\server\\share\\proj', '\\\\server\\other\\proj', false],
    ['\\\\server\\share\\proj', '\\\\other\\share\\proj', false],
    ['\\\\server\\share\\proj', 'C:\\proj', false],
    ['C:\\proj', '\\\\server\\share\\proj', false],
  ];
  for (const [root, candidate, expected] of golden) {
    it(`${candidate} is ${expected ? 'inside' : 'outside'} ${root}`, () => assert.equal(inside(root, candidate), expected));
  }
});

describe('isInside with POSIX paths (path.posix)', () => {
  const inside = (root: string, candidate: string) => isInside(root, candidate, path.posix);
  const golden: [string, string, boolean][] = [
    ['/w', '/w', true],
    ['/w', '/w/a/b', true],
    ['/w', '/w/..notes', true],
    ['/w', '/w/a/..notes/b', true],
    ['/w/', '/w/a', true],
    ['/w', '/w/..', false],
    ['/w', '/w/../x', false],
    ['/w', '/w2', false],
    ['/w', '/W/a', false], // case matters here (the default file systems of Linux)
    ['/w', '/', false],
    ['/', '/anything', true],
    ['/w', '/w/a\\..\\..\\x', true], // a backslash is part of a name on POSIX
  ];
  for (const [root, candidate, expected] of golden) {
    it(`${candidate} is ${expected ? 'inside' : 'outside'} ${root}`, () => assert.equal(inside(root, candidate), expected));
  }

  it("defaults to this OS's path rules", () => {
    assert.equal(isInside('/w', '/w/..notes'), true);
    assert.equal(isInside('/w', '/w2'), false);
  });
});

describe('a file named ..notes in a real workspace', () => {
  it('resolves inside the workspace, not as a way up', async () => {
    const root = await realpath(await mkdtemp(path.join(tmpdir(), 'ba-paths-')));
    try {
      await writeFile(path.join(root, '..notes'), 'x');
      const resolved = await resolveInWorkspace(root, '..notes');
      assert.ok(resolved.ok);
      assert.equal(resolved.absolute, path.join(root, '..notes'));
      assert.equal(resolved.display, '..notes');
      const missing = await resolveInWorkspace(root, 'sub/..notes');
      assert.ok(missing.ok);
      assert.equal(missing.display, path.join('sub', '..notes'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('names Windows would change before use', () => {
  const refused = ['.git.\\config', '.git./hooks/pre-commit', '.vscode \\settings.json', 'src\\a.ts.', 'a.txt:hidden', 'a.txt::$DATA', 'CON', 'nul.txt', 'dir\\COM1', 'lpt9.log', 'C:\\proj\\.git.\\config'];
  const accepted = ['src\\a.ts', 'src/a.ts', 'C:\\proj\\a.ts', 'C:/proj/a.ts', 'C:', '.\\a', '..\\proj\\a', '..notes', '.git\\config', 'console.log', 'nullable.ts', 'com.ts', '\\\\server\\share\\a.txt'];
  for (const name of refused) it(`refuses ${JSON.stringify(name)}`, () => assert.ok(windowsNameProblem(name)));
  for (const name of accepted) it(`accepts ${JSON.stringify(name)}`, () => assert.equal(windowsNameProblem(name), undefined));
});

// The CLI's log folder at the end: removed; when it cannot be (Windows: a log still open, EBUSY/EPERM),
// left with one sentence on stderr, never an exception (the exit hook must not throw).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { removeLogFolder } from '../../src/cli/logFolder';

describe('cli: removing the log folder', () => {
  it('removes the folder and says nothing', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ba-cli-logs-'));
    writeFileSync(path.join(dir, 't1.log'), 'x');
    const said: string[] = [];
    removeLogFolder(dir, (line) => said.push(line));
    assert.equal(existsSync(dir), false);
    assert.deepEqual(said, []);
  });

  it('when removal fails, does not throw and says in one sentence which folder was left and why', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'ba-cli-logs-'));
    try {
      const said: string[] = [];
      const busy = (() => {
        throw Object.assign(new Error('EBUSY: resource busy or locked, rmdir'), { code: 'EBUSY' });
      }) as typeof rmSync;
      assert.doesNotThrow(() => removeLogFolder(dir, (line) => said.push(line), busy));
      assert.equal(said.length, 1);
      assert.match(said[0], new RegExp(`${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was left in place \\(EBUSY`));
      assert.match(said[0], /^[^\n]*\.\n$/);
      assert.equal(existsSync(dir), true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passes retries for a log a just-killed process still holds', () => {
    let given: Parameters<typeof rmSync>[1];
    removeLogFolder('/nonexistent-ba', () => undefined, ((_: string, options: Parameters<typeof rmSync>[1]) => {
      given = options;
    }) as typeof rmSync);
    assert.deepEqual(given, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  });
});

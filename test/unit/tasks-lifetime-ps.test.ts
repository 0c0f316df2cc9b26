// The lifetime tests of tasks-lifetime.test.ts once more, on the macOS code path: the owner's guard reads
// the process table with `ps` (ownerGuard.sh's ps mode), start times are ps's (UTC, one-second steps), a
// take-over after a reload judges earlier owners through `ps`, and every task is spawned by Node.
import '../support/pretendDarwin';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { platform } from '../../src/core/platform';
import './tasks-lifetime.test';

it('runs on the ps source with the guard in ps mode (the macOS path)', () => {
  assert.equal(platform.processSource, 'ps');
  assert.equal(platform.guard, 'ps');
});

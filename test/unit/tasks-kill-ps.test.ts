// The kill tests of tasks-kill.test.ts once more, on the macOS code path: no /proc for the engine, so the
// process table and the task markers come from `ps` (Linux's procps here, which prints what macOS's ps
// prints for the same options; `ps e` stands in for `ps -E`), every task is spawned by Node, and the
// setsid, nohup and double-forked descendants must still be found and verified gone.
import '../support/pretendDarwin';
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { platform } from '../../src/core/platform';
import './tasks-kill.test';

it('runs on the ps source (the macOS path), not /proc', () => {
  assert.equal(platform.processSource, 'ps');
  assert.equal(platform.launcher, false);
});

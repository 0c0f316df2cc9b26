// The kill planner on recorded process tables of each system: who is a member of a task's tree, and what
// is sent to them. The tables are written in the exact formats the sources read: `ps -A -o
// pid=,ppid=,pgid=,stat=,lstart=` with TZ=UTC (macOS and Linux procps print the same), `ps -E -ww -o
// pid=,command=` (macOS; procps `ps e`), and the CIM script's lines (Windows). Pids are made up, the
// shapes are those the systems print. The executor runs over a fake table and a fake signal sink, so the
// Windows command lines are checked without Windows.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { findMembers, planSignals, planTaskkill, type KillStep } from '../../src/core/tasks/killPlan';
import { platformFor } from '../../src/core/platform';
import {
  cimStartOf,
  lstartNumber,
  parseCimTable,
  parsePsEnvironment,
  parsePsTable,
  parseStat,
  psStartOf,
  type ProcessInfo,
  type ProcessTableSource,
} from '../../src/core/tasks/processTable';
import { killTreesNow, terminateTrees, type KillSink, type KillSystem } from '../../src/core/tasks/processTree';
import { taskkillPath } from '../../src/core/tasks/windowsShell';

const pids = (found: readonly ProcessInfo[]) => found.map((p) => p.pid).sort((a, b) => a - b);
const known = (...roots: number[]) => new Map<number, number | undefined>(roots.map((pid) => [pid, undefined]));

// A Mac: our extension host 5100; task shell 5200 (zsh) with a child, a setsid grandchild in its own
// session, a zombie, a daemon that double-forked to launchd (1) and carries the marker, and strangers.
const MAC_PS = `
    1     0     1 Ss   Tue Dec  1 08:00:01 2026
  412     1   412 Ss   Tue Dec  1 08:00:05 2026
 5100   412  5100 S    Wed Dec  2 01:00:00 2026
 5200  5100  5200 Ss   Wed Dec  2 01:00:10 2026
 5201  5200  5200 S    Wed Dec  2 01:00:10 2026
 5202  5201  5202 Ss   Wed Dec  2 01:00:11 2026
 5203  5202  5202 R+   Wed Dec  2 01:00:11 2026
 5210     1  5210 Ss   Wed Dec  2 01:00:12 2026
 5220  5200  5200 Z    Wed Dec  2 01:00:12 2026
 5300     1  5300 Ss   Tue Dec  1 09:00:00 2026
 5301  5300  5300 S    Tue Dec  1 09:00:00 2026
`;
const MAC_PS_E = `
 5100 /Applications/Visual Studio Code.app/Contents/Frameworks/Code Helper (Plugin).app/Contents/MacOS/Code Helper (Plugin) --type=utility PATH=/usr/bin:/bin HOME=/Users/me
 5200 /bin/zsh -c npm run dev BACKGROUND_AGENT_TASK_ID=ab3cde.t1 PATH=/usr/bin:/bin HOME=/Users/me
 5210 node server.js --port 3000 TERM=xterm-256color BACKGROUND_AGENT_TASK_ID=ab3cde.t1 PWD=/Users/me/app
 5300 /usr/sbin/cfprefsd agent
 5301 grep BACKGROUND_AGENT_TASK_ID=ab3cde.t1 BACKGROUND_AGENT_TASK_ID=zz9zzz.t7 SHELL=/bin/zsh
`;

describe('parsers', () => {
  it('reads ps tables of macOS and procps alike: pid, parent, group, state letter, start as UTC YYYYMMDDhhmmss', () => {
    const table = parsePsTable(MAC_PS);
    assert.equal(table.size, 11);
    assert.deepEqual(table.get(5203), { pid: 5203, ppid: 5202, pgid: 5202, state: 'R', startTicks: 20261202010011 });
    assert.equal(table.get(5220)?.state, 'Z');
    assert.equal(lstartNumber('Thu Jan  1 00:00:00 1970'), 19700101000000);
    assert.ok(Number.isNaN(lstartNumber('Thu Foo  1 00:00:00 1970')));
    assert.equal(psStartOf(Date.UTC(2026, 11, 2, 1, 0, 10, 999)), 20261202010010);
  });

  it('reads this machine\'s own ps (procps, the same options and C/UTC locale) with our process in it', { skip: process.platform === 'win32' ? 'no ps on Windows' : false }, () => {
    const text = execFileSync('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat=,lstart='], { env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' }, encoding: 'latin1' });
    const self = parsePsTable(text).get(process.pid);
    assert.equal(self?.ppid, process.ppid);
    assert.ok(Math.abs(Number(self?.startTicks) - psStartOf(Date.now() - process.uptime() * 1000)) <= 2, `${self?.startTicks}`);
  });

  it('finds the marker in ps -E lines: the last one (the environment follows the arguments), whole words only', () => {
    assert.deepEqual(parsePsEnvironment(MAC_PS_E, new Set(['ab3cde.t1'])), new Map([[5200, 'ab3cde.t1'], [5210, 'ab3cde.t1']]));
    // 5301 names ab3cde.t1 in its arguments, but its environment says zz9zzz.t7.
    assert.deepEqual([...parsePsEnvironment(MAC_PS_E, new Set(['zz9zzz.t7']))], [[5301, 'zz9zzz.t7']]);
    assert.equal(parsePsEnvironment(' 7 sh XBACKGROUND_AGENT_TASK_ID=ab3cde.t1 Y=1\n 8 sh BACKGROUND_AGENT_TASK_ID=ab3cde.t1x', new Set(['ab3cde.t1'])).size, 0);
    assert.deepEqual([...parsePsEnvironment(MAC_PS_E, (marker) => marker.startsWith('ab3cde.')).keys()], [5200, 5210]);
  });

  it('reads /proc stat lines whose names hold spaces and parentheses', () => {
    assert.deepEqual(parseStat('4242 (my (odd) name) S 4241 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 0 0'), {
      pid: 4242, ppid: 4241, pgid: 4242, state: 'S', startTicks: 987654,
    });
  });

  it('reads the CIM script\'s lines (Windows, CRLF), with 0 where Windows gives no creation time', () => {
    const table = parseCimTable('0 0 0\r\n4 0 20261201080000123\r\n7100 7000 20261202010010501\r\n\r\nWARNING: junk\r\n');
    assert.equal(table.size, 3);
    // Kept to the millisecond (as one 17-digit number it would pass 2^53 and lose the last digit).
    assert.deepEqual(table.get(7100), { pid: 7100, ppid: 7000, pgid: 7100, state: 'R', startTicks: Date.UTC(2026, 11, 2, 1, 0, 10, 501) });
    assert.equal(table.get(0)?.startTicks, 0);
    assert.equal(cimStartOf(Date.UTC(2026, 11, 2, 1, 0, 10, 500)), Date.UTC(2026, 11, 2, 1, 0, 10, 500));
  });
});

describe('members on macOS (ps)', () => {
  const table = parsePsTable(MAC_PS);
  const marked = [...parsePsEnvironment(MAC_PS_E, new Set(['ab3cde.t1'])).keys()];

  it('a cancel: the shell, its child, the setsid grandchild and its child by parent links, the daemon by its marker; not the zombie, not us, not strangers', () => {
    assert.deepEqual(pids(findMembers(table, { roots: [5200], known: known(5200), marked, self: 5100 })), [5200, 5201, 5202, 5203, 5210]);
  });

  it('without the marker scan (pollers) the re-parented daemon is out of reach, the rest is found', () => {
    assert.deepEqual(pids(findMembers(table, { roots: [5200], known: known(5200), self: 5100 })), [5200, 5201, 5202, 5203]);
  });

  it('a member known from an earlier reading stays one after it is re-parented; a reused pid (another start) does not', () => {
    const reparented = parsePsTable(MAC_PS.replace(' 5202  5201  5202 Ss', ' 5202     1  5202 Ss').replace(/^ 5201 .*$/m, ''));
    const earlier = new Map<number, number | undefined>([[5200, 20261202010010], [5202, 20261202010011]]);
    assert.deepEqual(pids(findMembers(reparented, { roots: [5200], known: earlier, self: 5100 })), [5200, 5202, 5203]);
    const reused = parsePsTable(MAC_PS.replace(' 5202  5201  5202 Ss   Wed Dec  2 01:00:11 2026', ' 5202     1  5202 Ss   Wed Dec  2 01:05:00 2026').replace(/^ 5201 .*$/m, ''));
    // The new 5202 is not ours; 5203, which names the old one as its parent and started before the new one, still is.
    assert.deepEqual(pids(findMembers(reused, { roots: [5200], known: earlier, self: 5100 })), [5200, 5203]);
  });

  it('an ended task (its shell gone) is found by its marker alone: a stranger that got its pid, and the stranger\'s group, are never touched', () => {
    // 5200 was reused by a pipeline whose leader exited: its group 5200 lives on in 5400 and 5401.
    const reused = parsePsTable(`${MAC_PS.replace(/^ 5200 .*$/m, '')}\n 5400   412  5200 S    Wed Dec  2 03:00:00 2026\n 5401   412  5200 S    Wed Dec  2 03:00:00 2026`);
    const found = pids(findMembers(reused, { roots: [], known: known(), marked: [5210], self: 5100 }));
    assert.deepEqual(found, [5210]);
    const members = findMembers(reused, { roots: [], known: known(), marked: [5210], self: 5100 });
    const steps = planSignals(members, [], 'SIGKILL', { ownGroup: 5100, protectedGroups: new Set() });
    assert.deepEqual(steps, [{ kind: 'signal', target: -5210, signal: 'SIGKILL' }, { kind: 'signal', target: 5210, signal: 'SIGKILL' }]);
  });

  it('a shell that just exited left `cmd &` in its group: while nobody holds the shell\'s pid, the group is the task\'s, marker or not', () => {
    const left = parsePsTable(`${MAC_PS.replace(/^ 5200 .*$/m, '')}\n 5230     1  5200 S    Wed Dec  2 01:00:13 2026`);
    assert.deepEqual(pids(findMembers(left, { roots: [5200], known: known(5200), self: 5100 })), [5201, 5202, 5203, 5230]);
    // Once a stranger holds that pid (so the old group is gone: POSIX gives out no live group's id), group 5200 is the stranger's.
    const held = parsePsTable(`${MAC_PS.replace(/^ 5200 .*$/m, ' 5200   412  5200 Ss   Wed Dec  2 03:00:00 2026').replace(/^ 520[123] .*$/gm, '')}\n 5230  5200  5200 S    Wed Dec  2 03:00:01 2026`);
    assert.deepEqual(pids(findMembers(held, { roots: [5200], known: new Map([[5200, 20261202010010]]), self: 5100 })), []);
  });

  it('the signals: TERM to every group but ours and the protected ones, then to every pid', () => {
    const members = findMembers(table, { roots: [5200], known: known(5200), marked, self: 5100 });
    const steps = planSignals(members, [5200], 'SIGTERM', { ownGroup: 5100, protectedGroups: new Set([5202]) });
    const groups = steps.filter((s) => s.kind === 'signal' && s.target < 0).map((s) => (s as { target: number }).target);
    assert.deepEqual(groups.sort((a, b) => a - b), [-5210, -5200]);
    const each = steps.filter((s) => s.kind === 'signal' && s.target > 0).map((s) => (s as { target: number }).target);
    assert.deepEqual(each.sort((a, b) => a - b), [5200, 5201, 5202, 5203, 5210]);
    assert.ok(steps.every((s) => s.kind === 'signal' && s.signal === 'SIGTERM'));
  });
});

// Windows: the extension host 7000; the task's powershell 7100 with node 7101 (which started 7102); 7150 is a
// stranger. Parent pids are never updated when a parent exits.
const WIN_CIM = [
  '0 0 0',
  '4 0 20261201080000000',
  '6000 4 20261201080100000',
  '7000 6000 20261202010000000',
  '7100 7000 20261202010010000',
  '7101 7100 20261202010011000',
  '7102 7101 20261202010011500',
  '7150 6000 20261201120000000',
  '7151 7150 20261201120000100',
].join('\r\n');
const TASKKILL = 'C:\\Windows\\System32\\taskkill.exe';

describe('members on Windows (CIM snapshot)', () => {
  const startedAt = Date.UTC(2026, 11, 2, 1, 0, 10);
  const notBefore = cimStartOf(startedAt - 2000);

  it('a cancel: the whole tree from the snapshot, every pid named (taskkill /T alone misses orphans)', () => {
    const members = findMembers(parseCimTable(WIN_CIM), { roots: [7100], known: known(7100), notBefore, self: 7000 });
    assert.deepEqual(pids(members), [7100, 7101, 7102]);
    // Forcefully (console programs have no gentle stop), each by its pid: not /T, which would follow parent
    // pids without the start times.
    assert.deepEqual(planTaskkill(members, TASKKILL), [{ kind: 'run', file: TASKKILL, args: ['/F', '/PID', '7100', '/PID', '7101', '/PID', '7102'] }]);
  });

  const orphansOf = (endedAt: number) => [{ pid: 7100, bornAfter: notBefore, bornBefore: cimStartOf(endedAt + 2000) }];
  const endedAt = Date.UTC(2026, 11, 2, 1, 20, 0);

  it('the shell exited and left node running: its orphans still name the gone pid as parent and are found', () => {
    const table = parseCimTable(WIN_CIM.replace(/^7100 .*$/m, ''));
    assert.deepEqual(pids(findMembers(table, { roots: [], known: known(), orphansOf: orphansOf(endedAt), notBefore, self: 7000 })), [7101, 7102]);
  });

  it('the shell\'s pid was given to a newer process: only what started before that holder is the task\'s', () => {
    const table = parseCimTable(`${WIN_CIM.replace(/^7100 .*$/m, '7100 6000 20261202013000000')}\r\n7160 7100 20261202013000500`);
    assert.deepEqual(pids(findMembers(table, { roots: [], known: known(), orphansOf: orphansOf(Date.UTC(2026, 11, 2, 2, 0, 0)), notBefore, self: 7000 })), [7101, 7102]);
  });

  it('a child born after the task ended is not its orphan, even when nobody holds the shell\'s pid (a short-lived stranger got it meanwhile)', () => {
    const table = parseCimTable(`${WIN_CIM.replace(/^7100 .*$/m, '')}\r\n8200 7100 20261202012500000`);
    assert.deepEqual(pids(findMembers(table, { roots: [], known: known(), orphansOf: orphansOf(endedAt), notBefore, self: 7000 })), [7101, 7102]);
  });

  it('a member seen in an earlier reading that is gone now still has its orphans (started during the kill, under a killed parent)', () => {
    const earlier = new Map<number, number | undefined>([[7100, Date.UTC(2026, 11, 2, 1, 0, 10)], [7101, Date.UTC(2026, 11, 2, 1, 0, 11)]]);
    const table = parseCimTable(`${WIN_CIM.replace(/^710[01] .*$/gm, '')}\r\n7300 7101 20261202010500000`);
    assert.deepEqual(pids(findMembers(table, { roots: [7100], known: earlier, notBefore, self: 7000 })), [7102, 7300]);
  });

  it('a parent pid that names a newer process is no parent link (a child cannot start before its parent)', () => {
    // 7151 started long before 7101 got its pid... here 7101's pid is what 7151 names as parent.
    const table = parseCimTable(`${WIN_CIM}\r\n7190 7101 20261201110000000`);
    assert.deepEqual(pids(findMembers(table, { roots: [7100], known: known(7100), notBefore, self: 7000 })), [7100, 7101, 7102]);
  });

  it('nothing that started before the task is a member, even by its pid', () => {
    const table = parseCimTable(WIN_CIM);
    assert.deepEqual(pids(findMembers(table, { roots: [7150], known: known(7150), notBefore, self: 7000 })), []);
  });

  it('a running task whose shell is already gone at the first reading still has its orphans (no start of the shell known)', () => {
    const table = parseCimTable(WIN_CIM.replace(/^7100 .*$/m, ''));
    const orphans = [{ pid: 7100, bornAfter: notBefore }];
    assert.deepEqual(pids(findMembers(table, { roots: [7100], known: known(7100), orphansOf: orphans, notBefore, self: 7000 })), [7101, 7102]);
  });

  it('splits a large tree over taskkill commands of at most 100 pids', () => {
    const many = Array.from({ length: 250 }, (_, i) => ({ pid: 10000 + i, ppid: 1, pgid: 10000 + i, state: 'R', startTicks: 1 }));
    const steps = planTaskkill(many, TASKKILL);
    assert.deepEqual(steps.map((s) => (s.kind === 'run' ? s.args.length : 0)), [201, 201, 101]);
  });
});

/** A table source that plays back recorded readings, one per read (the last one repeats). */
function playback(kind: 'cim' | 'ps', readings: string[], parse: (text: string) => Map<number, ProcessInfo>, markedPids: number[] = []): ProcessTableSource & { reads: number } {
  const marked = new Map(markedPids.map((pid) => [pid, 'ab3cde.t1']));
  let at = 0;
  const next = () => parse(readings[Math.min(at++, readings.length - 1)]);
  return {
    kind,
    reads: 0,
    async read() {
      this.reads++;
      return next();
    },
    readSync() {
      this.reads++;
      return next();
    },
    readOne: () => undefined,
    marked: async () => marked,
    markedSync: () => marked,
    bootId: () => 'recorded',
    startOf: (ms) => (kind === 'cim' ? cimStartOf(ms) : psStartOf(ms)),
  };
}

function recordingSink(): KillSink & { steps: KillStep[] } {
  const steps: KillStep[] = [];
  return {
    steps,
    signal: (target, signal) => void steps.push({ kind: 'signal', target, signal: signal as 'SIGTERM' | 'SIGKILL' }),
    run: async (file, args) => void steps.push({ kind: 'run', file, args }),
    runSync: (file, args) => void steps.push({ kind: 'run', file, args }),
  };
}

describe('the executor on Windows, through a fake signal sink', () => {
  const windows = platformFor('win32', false);
  const env = { SystemRoot: 'D:\\WINDOWS', PATH: 'C:\\proj\\bin' };
  const startedAt = Date.UTC(2026, 11, 2, 1, 0, 10);
  const after = WIN_CIM.replace(/^71(00|01|02) .*$/gm, '');

  it('taskkill /F from the Windows folder (never PATH) on every member of the snapshot, read again until none is left; what a member starts meanwhile gets its own', async () => {
    const spawnedDuring = `${WIN_CIM.replace(/^7100 .*$/m, '')}\r\n7300 7101 20261202010500000`;
    const table = playback('cim', [WIN_CIM, spawnedDuring, WIN_CIM.replace(/^710[01] .*$/gm, ''), after], parseCimTable);
    const sink = recordingSink();
    const system: KillSystem = { platform: windows, table, sink, self: 7000, env };
    await terminateTrees([{ pid: 7100, marker: 'ab3cde.t1', startedAt }], 5000, undefined, system);
    assert.equal(taskkillPath(env), 'D:\\WINDOWS\\System32\\taskkill.exe');
    assert.deepEqual(sink.steps, [
      { kind: 'run', file: 'D:\\WINDOWS\\System32\\taskkill.exe', args: ['/F', '/PID', '7100', '/PID', '7101', '/PID', '7102'] },
      { kind: 'run', file: 'D:\\WINDOWS\\System32\\taskkill.exe', args: ['/F', '/PID', '7101', '/PID', '7102', '/PID', '7300'] },
    ]);
    assert.ok(table.reads >= 4, `${table.reads} readings: it looked again until the tree was gone`);
  });

  it('with no snapshot to be had (PowerShell or WMI failing), each shell with its tree as taskkill finds it, unchecked', async () => {
    const table = playback('cim', [''], parseCimTable);
    const sink = recordingSink();
    await terminateTrees([{ pid: 7100, marker: 'ab3cde.t1', startedAt }], 5000, undefined, { platform: windows, table, sink, self: 7000, env });
    assert.deepEqual(sink.steps, [{ kind: 'run', file: 'D:\\WINDOWS\\System32\\taskkill.exe', args: ['/T', '/F', '/PID', '7100'] }]);
  });

  it('at shutdown: one snapshot, one forced taskkill of every member, the orphans of ended tasks (born while they ran) included', () => {
    const table = playback('cim', [`${WIN_CIM.replace(/^7100 .*$/m, '')}\r\n8200 7100 20261202030000000`], parseCimTable);
    const sink = recordingSink();
    killTreesNow([{ pid: 7100, marker: 'ab3cde.t1', startedAt, endedAt: Date.UTC(2026, 11, 2, 1, 20, 0) }], { platform: windows, table, sink, self: 7000, env });
    assert.deepEqual(sink.steps, [{ kind: 'run', file: 'D:\\WINDOWS\\System32\\taskkill.exe', args: ['/F', '/PID', '7101', '/PID', '7102'] }]);
  });
});

describe('the executor when a reading fails or a pid was given out again', () => {
  const mac = platformFor('darwin', false);
  const startedAt = Date.UTC(2026, 11, 2, 1, 0, 10);

  it('a failed reading in the middle of a kill is no "all gone": the forceful round still goes to what is known', async () => {
    // Every reading after the first fails (ps hangs): the kill cannot check, and gives up after the forceful round.
    const table = playback('ps', [MAC_PS, ''], parsePsTable, [5200, 5210]);
    const sink = recordingSink();
    await terminateTrees([{ pid: 5200, marker: 'ab3cde.t1', startedAt }], 30, undefined, { platform: mac, table, sink, self: 5100, env: {} });
    const kill = sink.steps.filter((s) => s.kind === 'signal' && s.signal === 'SIGKILL').map((s) => (s as { target: number }).target);
    assert.ok(kill.includes(5203), `SIGKILL went to ${kill}`);
  });

  it('a shell whose pid a reading shows held by another program: its group is never signalled, by name or as a group', async () => {
    // The shell was reaped with its tree gone; a stranger got its pid and leads a group of its own.
    const held = `${MAC_PS.replace(/^ 5200 .*$/m, ' 5200   412  5200 Ss   Wed Dec  2 03:00:00 2026').replace(/^ 52(01|02|03|10) .*$/gm, '')}\n 5231  5200  5200 S    Wed Dec  2 03:00:01 2026`;
    const table = playback('ps', [held], parsePsTable);
    const sink = recordingSink();
    await terminateTrees([{ pid: 5200, pidStart: 20261202010010, marker: 'ab3cde.t1', startedAt }], 30, undefined, { platform: mac, table, sink, self: 5100, env: {} });
    assert.deepEqual(sink.steps, []);
  });

  it('with no table at all, the shells by pid and group, TERM then KILL after the grace, unchecked', async () => {
    const table = playback('ps', [''], parsePsTable);
    const sink = recordingSink();
    await terminateTrees([{ pid: 5200, marker: 'ab3cde.t1', startedAt }], 20, undefined, { platform: mac, table, sink, self: 5100, env: {} });
    assert.deepEqual(sink.steps, [
      { kind: 'signal', target: -5200, signal: 'SIGTERM' },
      { kind: 'signal', target: 5200, signal: 'SIGTERM' },
      { kind: 'signal', target: -5200, signal: 'SIGKILL' },
      { kind: 'signal', target: 5200, signal: 'SIGKILL' },
    ]);
  });
});

describe('the executor on macOS, through a fake signal sink', () => {
  const mac = platformFor('darwin', false);
  const startedAt = Date.UTC(2026, 11, 2, 1, 0, 10);

  it('TERM to groups and pids, KILL to what is left after the grace, done when ps shows none of them (zombies count as gone)', async () => {
    const dead = MAC_PS.replace(/^ 52(00|01|02|03|10) .*$/gm, '');
    const stubborn = MAC_PS.replace(/^ 52(00|01|02|10) .*$/gm, '');
    const table = playback('ps', [MAC_PS, stubborn, stubborn, dead], parsePsTable, [5200, 5210]);
    const sink = recordingSink();
    await terminateTrees([{ pid: 5200, marker: 'ab3cde.t1', startedAt }], 0, undefined, { platform: mac, table, sink, self: 5100, env: {} });
    const term = sink.steps.filter((s) => s.kind === 'signal' && s.signal === 'SIGTERM').map((s) => (s as { target: number }).target);
    const kill = sink.steps.filter((s) => s.kind === 'signal' && s.signal === 'SIGKILL').map((s) => (s as { target: number }).target);
    assert.deepEqual(term.sort((a, b) => a - b), [-5210, -5202, -5200, 5200, 5201, 5202, 5203, 5210]);
    assert.deepEqual(kill.sort((a, b) => a - b), [-5202, -5200, 5203]);
  });

  it('at shutdown, a finished task\'s escaped daemon is found by its marker alone and killed', () => {
    const table = playback('ps', [MAC_PS.replace(/^ 52(00|01|02|03) .*$/gm, '')], parsePsTable, [5210]);
    const sink = recordingSink();
    killTreesNow([{ pid: 5200, marker: 'ab3cde.t1', startedAt, endedAt: Date.UTC(2026, 11, 2, 1, 20, 0) }], { platform: mac, table, sink, self: 5100, env: {} });
    assert.deepEqual(sink.steps, [
      { kind: 'signal', target: -5210, signal: 'SIGKILL' },
      { kind: 'signal', target: 5210, signal: 'SIGKILL' },
    ]);
  });
});

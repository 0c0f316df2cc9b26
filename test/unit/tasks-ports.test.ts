// The TCP ports a task's process tree listens on: found for the task whose tree holds the socket (also a
// grandchild's, also IPv6), not for processes outside it, gone once closed; the watcher's timer and events;
// the /proc/net parsing on recorded rows. Real processes, each killed (by group) after its test.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { formatListeningPort, parseLsof, parseProcNetTcp, PortScanner, readNetTable, type ListeningPort } from '../../src/core/tasks/listeningPorts';
import { PortWatcher } from '../../src/core/tasks/portWatcher';
import { platform } from '../../src/core/platform';

const hasProcFs = platform.processSource === 'proc';
import { until } from '../support/tasksKit';

// Listens where told (argv: host, "v6only"), prints one JSON line; SIGUSR2 closes the port, the process stays.
const SERVER = `
const server = require('node:http').createServer();
server.listen({ port: 0, host: process.argv[2], ipv6Only: process.argv[3] === 'v6only' }, () => {
  console.log(JSON.stringify({ pid: process.pid, port: server.address().port }));
});
process.on('SIGUSR2', () => server.close());
setInterval(() => {}, 1 << 30);
`;

let dir: string;
let serverJs: string;
const started: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ba-ports-'));
  serverJs = path.join(dir, 'server.js');
  await writeFile(serverJs, SERVER);
});
after(() => rm(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const child of started.splice(0)) {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** Starts a shell command in its own group (so the whole tree can be killed); resolves with its first stdout line. */
async function startRoot(command: string): Promise<{ root: number; line: string }> {
  const child = spawn('/bin/sh', ['-c', command], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await until(() => out.includes('\n'), 'the first line of output');
  return { root: child.pid as number, line: out.split('\n')[0] };
}

/** A Node server as the root's child (`host`, optionally IPv6 only); its pid and port. */
async function startServer(host = '127.0.0.1', extra = ''): Promise<{ root: number; pid: number; port: number }> {
  const { root, line } = await startRoot(`node ${serverJs} ${host} ${extra}; :`);
  return { root, ...(JSON.parse(line) as { pid: number; port: number }) };
}

async function portsFound(scanner: PortScanner, roots: Record<string, number>, id: string): Promise<ListeningPort[]> {
  return (await scanner.scan(new Map(Object.entries(roots)))).get(id) ?? [];
}

async function ipv6Loopback(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer().once('error', () => resolve(false));
    probe.listen({ port: 0, host: '::1', ipv6Only: true }, () => probe.close(() => resolve(true)));
  });
}

describe('parsing', () => {
  it('reads the LISTEN rows of recorded /proc/net/tcp and tcp6 text (golden)', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1673 1 0000000008e8743d 100 0 0 10 0',
      '   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1495803 1 00000000f81dc8fb 100 0 0 10 0',
      '   2: 0100007F:A707 0100007F:1F90 06 00000000:00000000 03:000015EB 00000000     0        0 0 3 000000007b39a34d',
      '   3: 0100007F:E02A 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 2200 1 000000003b39a34d 20 4 30 10 -1',
    ].join('\n');
    assert.deepEqual(parseProcNetTcp(tcp), [
      { address: '0.0.0.0', port: 2024, inode: 1673, uid: 0 },
      { address: '127.0.0.1', port: 8080, inode: 1495803, uid: 1000 },
    ]);
    const tcp6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000000000000:1435 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31001 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000000000000000000001000000:1435 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31002 1 0000000000000000 100 0 0 10 0',
      '   2: 0000000000000000FFFF00000100007F:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31003 1 0000000000000000 100 0 0 10 0',
      '   3: B80D0120000000000000000001000000:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31004 1 0000000000000000 100 0 0 10 0',
      '   4: 000080FE00000000FF000002FE4B0C01:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31005 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    assert.deepEqual(parseProcNetTcp(tcp6).map((s) => [formatListeningPort(s), s.inode]), [
      ['*:5173', 31001],
      ['[::1]:5173', 31002],
      ['[::ffff:127.0.0.1]:80', 31003],
      ['[2001:db8::1]:443', 31004],
      ['[fe80::200:ff:10c:4bfe]:22', 31005],
    ]);
  });

  it('reads a table forward until its last whole row is past the LISTEN rows; a cut row is dropped', async () => {
    const row = (i: number, state: string) => `${String(i).padStart(4)}: 0100007F:${(3000 + i).toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 ${state} 00000000:00000000 00:00000000 00000000  1000        0 ${900000 + i} 1 0000000000000000 100 0 0 10 0`;
    const rows = [...Array.from({ length: 40 }, (_, i) => row(i, '0A')), ...Array.from({ length: 40 }, (_, i) => row(40 + i, '06'))];
    const file = path.join(dir, 'tcp');
    await writeFile(file, `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n${rows.join('\n')}\n`);
    const text = await readNetTable(file, 300);
    assert.ok(text.length < 80 * 150, `stopped after the LISTEN rows (${text.length} characters read)`);
    assert.ok(text.endsWith('\n'), 'no cut row');
    assert.deepEqual(parseProcNetTcp(text).map((s) => s.port), Array.from({ length: 40 }, (_, i) => 3000 + i));
  });

  it('finds every one of 60 ports one task listens on (more than one page of /proc/net/tcp)', async () => {
    const script = path.join(dir, 'many.js');
    await writeFile(script, "const net = require('net'); let n = 0; for (let i = 0; i < 60; i++) net.createServer().listen(0, '127.0.0.1', () => { if (++n === 60) console.log('all listening'); });");
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('all listening') && resolve()));
      const found = await new PortScanner().scan(new Map([['many', child.pid as number]]));
      assert.equal(found.get('many')?.length, 60);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('formats addresses for people and reads lsof -F output', () => {
    assert.equal(formatListeningPort({ address: '127.0.0.1', port: 5173 }), '127.0.0.1:5173');
    assert.equal(formatListeningPort({ address: '::1', port: 5173 }), '[::1]:5173');
    assert.equal(formatListeningPort({ address: '0.0.0.0', port: 80 }), '*:80');
    assert.equal(formatListeningPort({ address: '::', port: 80 }), '*:80');
    assert.deepEqual(parseLsof('p12\nf5\ntIPv4\nn*:3000\nf6\ntIPv6\nn*:3000\np13\nf7\ntIPv6\nn[::1]:8080\nf8\ntIPv4\nn127.0.0.1:9000\n'), [
      { pid: 12, address: '0.0.0.0', port: 3000 },
      { pid: 12, address: '::', port: 3000 },
      { pid: 13, address: '::1', port: 8080 },
      { pid: 13, address: '127.0.0.1', port: 9000 },
    ]);
  });
});

describe('PortScanner', { skip: hasProcFs ? false : 'needs /proc (Linux)' }, () => {
  it("finds a Node server's port for its task, and not for another task", async () => {
    const server = await startServer();
    const other = await startRoot('echo started; sleep 300');
    const scanner = new PortScanner();
    const found = await scanner.scan(new Map([['t1', server.root], ['t2', other.root]]));
    assert.deepEqual(found.get('t1'), [{ address: '127.0.0.1', port: server.port }]);
    assert.equal(found.has('t2'), false, 'a task without ports is left out');
  });

  it('reports a server listening on IPv6 only with its IPv6 address', async (t) => {
    if (!(await ipv6Loopback())) return t.skip('this machine has no IPv6 loopback (::1)');
    const server = await startServer('::1', 'v6only');
    assert.deepEqual(await portsFound(new PortScanner(), { t1: server.root }, 't1'), [{ address: '::1', port: server.port }]);
  });

  it('finds a port opened by a grandchild for the root', async () => {
    const { root, line } = await startRoot(`sh -c "sh -c 'node ${serverJs} 127.0.0.1; :'; :"; :`);
    const { port } = JSON.parse(line) as { port: number };
    assert.deepEqual(await portsFound(new PortScanner(), { t1: root }, 't1'), [{ address: '127.0.0.1', port }]);
  });

  it('does not report a port of a process outside the tree', async () => {
    const outside = await startServer();
    const task = await startRoot('echo started; sleep 300');
    const scanner = new PortScanner();
    assert.deepEqual(await portsFound(scanner, { t1: task.root }, 't1'), []);
    // Nor later, once that inode is cached as "not ours", nor after the set of roots changed.
    assert.deepEqual(await portsFound(scanner, { t1: task.root }, 't1'), []);
    assert.deepEqual(await portsFound(scanner, { t1: task.root, t2: outside.root }, 't1'), []);
    assert.deepEqual(await portsFound(scanner, { t1: task.root, t2: outside.root }, 't2'), [{ address: '127.0.0.1', port: outside.port }], 're-checked when a task was added');
  });

  it('a port that closes disappears at the next scan', async () => {
    const server = await startServer();
    const scanner = new PortScanner();
    assert.equal((await portsFound(scanner, { t1: server.root }, 't1')).length, 1);
    process.kill(server.pid, 'SIGUSR2');
    await until(async () => (await portsFound(scanner, { t1: server.root }, 't1')).length === 0, 'the closed port to disappear');
  });
});

describe('PortScanner through lsof', { skip: hasProcFs ? false : 'Linux only here' }, () => {
  it('finds the same ports as /proc does', async (t) => {
    const probe = new PortScanner({ method: 'lsof' });
    await probe.scan(new Map([['self', process.pid]]));
    if (!probe.available) return t.skip('lsof is not installed');
    const server = await startServer();
    assert.deepEqual(await portsFound(probe, { t1: server.root }, 't1'), [{ address: '127.0.0.1', port: server.port }]);
  });
});

describe('PortWatcher', { skip: hasProcFs ? false : 'needs /proc (Linux)' }, () => {
  it('calls onChange when a port opens and closes, and stops its timer when no task runs', async () => {
    const server = await startServer();
    const roots = new Map([['t1', server.root]]);
    const changes: Array<[string, string[]]> = [];
    const watcher = new PortWatcher({ roots: () => roots, onChange: (id, ports) => changes.push([id, ports.map(formatListeningPort)]), idleIntervalMs: 50 });
    try {
      watcher.refresh();
      await until(() => changes.length === 1, 'the open port to be reported');
      assert.deepEqual(changes, [['t1', [`127.0.0.1:${server.port}`]]]);
      assert.deepEqual(watcher.portsOf('t1'), [{ address: '127.0.0.1', port: server.port }]);
      process.kill(server.pid, 'SIGUSR2');
      await until(() => changes.length === 2, 'the closed port to be reported');
      assert.deepEqual(changes[1], ['t1', []]);
      assert.deepEqual(watcher.portsOf('t1'), []);
      roots.clear();
      watcher.refresh();
      await until(() => !watcher.polling, 'the timer to stop');
      assert.equal(changes.length, 2, 'nothing more to say');
    } finally {
      watcher.dispose();
    }
  });

  it('polls fast while hurried, never two scans at once, and not at all after dispose', async () => {
    let [scans, inFlight, maxInFlight] = [0, 0, 0];
    class SlowScanner extends PortScanner {
      override async socketCounts(): Promise<string | undefined> {
        return undefined; // Unknown: every fast tick looks.
      }
      override async scan(): Promise<Map<string, ListeningPort[]>> {
        scans++;
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inFlight--;
        return new Map();
      }
    }
    const watcher = new PortWatcher({ roots: () => new Map([['t1', process.pid]]), onChange: () => {}, idleIntervalMs: 60_000, fastIntervalMs: 1, scanner: new SlowScanner() });
    watcher.refresh();
    await until(() => scans === 1 && inFlight === 0, 'the first scan');
    const hurry = watcher.hurry();
    for (let i = 0; i < 5; i++) watcher.refresh();
    await until(() => scans >= 6, 'fast polling while hurried');
    hurry.dispose();
    hurry.dispose();
    watcher.dispose();
    await until(() => inFlight === 0, 'the last scan to end');
    const after = scans;
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(scans, after, 'no scan after dispose');
    assert.equal(maxInFlight, 1, 'scans never overlap');
    assert.equal(watcher.polling, false);
  });

  it('a timed fast tick looks only when the socket counts moved, and at least once per idle interval', async () => {
    const state = { counts: 'a', countReads: 0, scans: 0 };
    class CountingScanner extends PortScanner {
      override async socketCounts(): Promise<string | undefined> {
        state.countReads++;
        return state.counts;
      }
      override async scan(): Promise<Map<string, ListeningPort[]>> {
        state.scans++;
        return new Map();
      }
    }
    const watch = (idleIntervalMs: number) => new PortWatcher({ roots: () => new Map([['t1', process.pid]]), onChange: () => {}, idleIntervalMs, fastIntervalMs: 1, scanner: new CountingScanner() });
    const gated = watch(60_000);
    try {
      gated.refresh();
      const hurry = gated.hurry();
      await until(() => state.countReads >= 20, 'fast ticks');
      assert.equal(state.scans, 1, 'the refresh and the hurry (one turn: one look) looked; the fast ticks since did not');
      state.counts = 'b';
      await until(() => state.scans === 2, 'a look once the counts moved');
      hurry.dispose();
    } finally {
      gated.dispose();
    }
    const backstop = watch(50);
    try {
      state.scans = 0;
      backstop.hurry();
      await until(() => state.scans >= 4, 'a full look every idle interval while the counts stand still');
    } finally {
      backstop.dispose();
    }
  });
});

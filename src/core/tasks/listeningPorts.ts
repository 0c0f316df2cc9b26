// The TCP ports a task's process tree listens on. Linux: the LISTEN rows of /proc/net/tcp and tcp6, whose
// socket inodes are matched to the tree's file descriptors (`socket:[<inode>]`); elsewhere `lsof`; else none.
// Cheap by design: a tick reads only the two tables. The tree and its fds are read only when a LISTEN inode
// shows up that was not seen before; each inode is then remembered as a task's or as "not ours". A "not
// ours" one is looked for again in the trees of tasks added since (a task whose pid was not known yet).
// Limits: a server that double-forked out of the tree (re-parented to init) before its port was first seen
// is not found (parent links only, no marker scan); a port handed to a task by another process is not either.
import { execFile } from 'node:child_process';
import { endianness } from 'node:os';
import { open, readdir, readlink } from 'node:fs/promises';
import { findMembers } from './killPlan';
import { platform } from '../platform';
import { inBatches, processTable, type ProcessTable } from './processTable';

export interface ListeningPort { readonly address: string; readonly port: number }
/** A LISTEN row of /proc/net/tcp{,6}. */
export interface ListeningSocket extends ListeningPort { readonly inode: number; readonly uid: number }

const ALL_ADDRESSES = new Set(['0.0.0.0', '::']);
const LSOF_TIMEOUT_MS = 5000;
/** `ps` and `lsof` per look: no faster than this, even while a tool waits for a port. */
const LSOF_MIN_INTERVAL_MS = 250;
const OWN_UID = process.getuid?.();

/** Formats for people and the model: `127.0.0.1:5173`, `[::1]:5173`, `*:5173` for all addresses. */
export function formatListeningPort(p: ListeningPort): string {
  if (ALL_ADDRESSES.has(p.address)) return `*:${p.port}`;
  return p.address.includes(':') ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}

// ---- Parsing.

/** The kernel prints each 32-bit word of an address as the integer it is in host byte order. */
function addressBytes(hex: string): Buffer {
  const bytes = Buffer.alloc(hex.length / 2);
  const little = endianness() === 'LE';
  for (let at = 0; at < bytes.length; at += 4) {
    const word = Number.parseInt(hex.slice(at * 2, at * 2 + 8), 16);
    if (little) bytes.writeUInt32LE(word, at);
    else bytes.writeUInt32BE(word, at);
  }
  return bytes;
}

/** RFC 5952 text: lower case, the first longest run of two or more zero groups as `::`, v4-mapped dotted. */
function formatIpv6(bytes: Uint8Array): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) return `::ffff:${bytes.subarray(12).join('.')}`;
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let [bestAt, bestLength] = [-1, 1];
  for (let i = 0; i < 8; i++) {
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) [bestAt, bestLength] = [i, end - i];
    i = end;
  }
  const hex = (from: number, to: number) => groups.slice(from, to).map((g) => g.toString(16)).join(':');
  return bestAt < 0 ? hex(0, 8) : `${hex(0, bestAt)}::${hex(bestAt + bestLength, 8)}`;
}

/** The LISTEN rows (state 0A) of /proc/net/tcp or tcp6: `sl local rem st tx:rx tr:when retr uid timeout inode`. */
export function parseProcNetTcp(text: string): ListeningSocket[] {
  const found: ListeningSocket[] = [];
  for (const line of text.split('\n')) {
    // Only the state column can read " 0A " (the other hex columns are joined by ':' or 8 digits wide).
    if (!line.includes(' 0A ')) continue;
    const fields = line.trim().split(/\s+/);
    const inode = Number(fields[9]);
    if (fields[3] !== '0A' || !(inode > 0)) continue;
    const [host, port] = fields[1].split(':');
    const bytes = addressBytes(host);
    const address = bytes.length === 4 ? bytes.join('.') : formatIpv6(bytes);
    found.push({ address, port: Number.parseInt(port, 16), inode, uid: Number(fields[7]) });
  }
  return found;
}

/** `lsof -F ptn` output: `p<pid>` starts a process, `t<IPv4|IPv6>` and `n<host>:<port>` describe a file. */
export function parseLsof(text: string): Array<{ pid: number } & ListeningPort> {
  const found: Array<{ pid: number } & ListeningPort> = [];
  let [pid, type] = [0, ''];
  for (const line of text.split('\n')) {
    if (line[0] === 'p') pid = Number(line.slice(1));
    else if (line[0] === 't') type = line.slice(1);
    const match = line[0] === 'n' ? /^n\[?([^\]]*?)\]?:(\d+)$/.exec(line) : null;
    if (!match) continue;
    const address = match[1] === '*' ? (type === 'IPv6' ? '::' : '0.0.0.0') : match[1];
    found.push({ pid, address, port: Number(match[2]) });
  }
  return found;
}

/** One entry per address and port, by port then address. */
function tidy(ports: readonly ListeningPort[]): ListeningPort[] {
  const unique = new Map(ports.map((p) => [`${p.address} ${p.port}`, { address: p.address, port: p.port }]));
  return [...unique.values()].sort((a, b) => a.port - b.port || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

// ---- Reading.

/**
 * The LISTEN rows of a /proc/net table (and the row after them), not the whole table as readFile would
 * read it: each read makes the kernel walk its connection hash (262k buckets here, about 2 ms). The kernel
 * hands out a page or so per read, so the file is read forward in `chunk`-byte reads, and LISTEN rows come
 * first: once the last whole row read is not LISTEN, they are all in (a cut row at the end is dropped).
 * Also reads small files whole (sockstat). Exported for tests.
 */
export async function readNetTable(path: string, chunk = 16 * 1024): Promise<string> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return '';
  try {
    let text = '';
    for (let position = 0; ; ) {
      const buffer = Buffer.allocUnsafe(chunk);
      const { bytesRead } = await file.read(buffer, 0, chunk, position);
      if (bytesRead === 0) return text;
      position += bytesRead;
      text += buffer.toString('latin1', 0, bytesRead);
      const whole = text.slice(0, text.lastIndexOf('\n') + 1);
      const lastRow = whole.slice(whole.lastIndexOf('\n', whole.length - 2) + 1);
      // The header row has no state field; a data row that is not LISTEN ends the LISTEN part.
      if (whole.includes('\n') && /^\s*\d+:/.test(lastRow) && !lastRow.includes(' 0A ')) return whole;
    }
  } finally {
    await file.close();
  }
}

/** The kernel's counts of hashed TCP sockets (listening or connected), v4 and v6: cheap, no walk. */
async function tcpInUse(): Promise<[number | undefined, number | undefined]> {
  const [v4, v6] = await Promise.all([readNetTable('/proc/net/sockstat', 4096), readNetTable('/proc/net/sockstat6', 4096)]);
  const count = (match: RegExpExecArray | null) => (match ? Number(match[1]) : undefined);
  return [count(/^TCP: inuse (\d+)/m.exec(v4)), count(/^TCP6: inuse (\d+)/m.exec(v6))];
}

/** Each live process of the trees, mapped to the task of its nearest root ancestor. */
function taskOfEachMember(table: ProcessTable, roots: ReadonlyMap<string, number>): Map<number, string> {
  const taskOfRoot = new Map([...roots].map(([id, pid]) => [pid, id]));
  const members = new Map<number, string>();
  const query = { roots: [...taskOfRoot.keys()], known: new Map([...taskOfRoot.keys()].map((pid) => [pid, undefined])), self: process.pid };
  for (const { pid } of findMembers(table, query)) {
    let at: number | undefined = pid;
    for (let steps = 0; at !== undefined && !taskOfRoot.has(at) && steps < table.size; steps++) at = table.get(at)?.ppid;
    const id = at === undefined ? undefined : taskOfRoot.get(at);
    if (id !== undefined) members.set(pid, id);
  }
  return members;
}

// ---- The scanner.

const NOT_OURS = 'not ours';
type Owner = { readonly taskId: string; readonly root: number } | typeof NOT_OURS;
type Method = 'proc' | 'lsof' | 'none';

export class PortScanner {
  private method: Method;
  /** LISTEN inode -> the task that owns it, or 'not ours'; only inodes still listening are kept. */
  private readonly owners = new Map<number, Owner>();
  private lastRoots: ReadonlyMap<string, number> = new Map();
  /** Scans run one after another: the inode cache is shared. */
  private queue: Promise<Map<string, ListeningPort[]>> = Promise.resolve(new Map());

  constructor(options: { method?: Method } = {}) {
    this.method = options.method ?? platform.ports;
  }

  /** False where nothing can be found (no /proc, no lsof): pollers stop. */
  get available(): boolean {
    return this.method !== 'none';
  }

  /** The least time between two looks: lsof's look is two processes, /proc's a few reads. */
  get minIntervalMs(): number {
    return this.method === 'lsof' ? LSOF_MIN_INTERVAL_MS : 0;
  }

  /** The kernel's counts of TCP sockets in use (v4 and v6; opening or closing a port moves them); undefined where unknown. */
  async socketCounts(): Promise<string | undefined> {
    if (this.method !== 'proc') return undefined;
    const [v4, v6] = await tcpInUse();
    return v4 === undefined ? undefined : `${v4} ${v6}`;
  }

  /** One look: ports per task id (tasks without ports are left out). Never throws. */
  scan(roots: ReadonlyMap<string, number>): Promise<Map<string, ListeningPort[]>> {
    // On an unexpected error the last answer stands: a failed look must not read as every port closing.
    const next = this.queue.then(async (last) => {
      if (roots.size === 0 || this.method === 'none') return new Map<string, ListeningPort[]>();
      return (this.method === 'proc' ? this.scanProc(roots) : this.scanLsof(roots)).catch(() => last);
    });
    this.queue = next;
    return next;
  }

  private async scanProc(roots: ReadonlyMap<string, number>): Promise<Map<string, ListeningPort[]>> {
    // A family without a single TCP socket is not read: each read walks the kernel's whole hash.
    const [v4, v6] = await tcpInUse();
    const read = async (path: string, inUse: number | undefined) => (inUse === 0 ? '' : readNetTable(path));
    const [tcp, tcp6] = await Promise.all([read('/proc/net/tcp', v4), read('/proc/net/tcp6', v6)]);
    // Another user's sockets: their fds are closed to us anyway (root may read all).
    const sockets = [...parseProcNetTcp(tcp), ...parseProcNetTcp(tcp6)].filter((s) => OWN_UID === undefined || OWN_UID === 0 || s.uid === OWN_UID);
    const listening = new Set(sockets.map((s) => s.inode));
    // Tasks that are new (or have a new pid) since the last look may own inodes found "not ours" before.
    const added = new Set([...roots].filter(([id, pid]) => this.lastRoots.get(id) !== pid).map(([id]) => id));
    this.lastRoots = new Map(roots);
    for (const [inode, owner] of this.owners) {
      const gone = !listening.has(inode) || (owner !== NOT_OURS && roots.get(owner.taskId) !== owner.root);
      if (gone) this.owners.delete(inode);
    }
    const unknown = new Set([...listening].filter((inode) => !this.owners.has(inode)));
    const recheck = new Set(added.size === 0 ? [] : [...this.owners].filter(([, owner]) => owner === NOT_OURS).map(([inode]) => inode));
    if (unknown.size > 0 || recheck.size > 0) await this.findOwners(unknown, recheck, added, roots);
    const result = new Map<string, ListeningPort[]>();
    for (const socket of sockets) {
      const owner = this.owners.get(socket.inode);
      if (owner === undefined || owner === NOT_OURS) continue;
      result.set(owner.taskId, [...(result.get(owner.taskId) ?? []), { address: socket.address, port: socket.port }]);
    }
    for (const [id, ports] of result) result.set(id, tidy(ports));
    return result;
  }

  /**
   * Reads the trees' fds until every inode is placed: `unknown` ones (new) in every tree, `recheck` ones
   * ("not ours" so far) only in the added tasks' trees. Newest processes first: most likely the new listener.
   */
  private async findOwners(unknown: Set<number>, recheck: Set<number>, added: ReadonlySet<string>, roots: ReadonlyMap<string, number>): Promise<void> {
    const members = taskOfEachMember(await processTable.read(), roots);
    const pids = [...members.keys()].sort((a, b) => b - a);
    await inBatches(pids, async (pid) => {
      const taskId = members.get(pid) as string;
      const fresh = added.has(taskId);
      if (unknown.size === 0 && !fresh) return;
      for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) {
        const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
        const inode = link.startsWith('socket:[') ? Number(link.slice(8, -1)) : 0;
        if (unknown.delete(inode) || (fresh && recheck.delete(inode))) this.owners.set(inode, { taskId, root: roots.get(taskId) as number });
        if (unknown.size === 0 && recheck.size === 0) return;
      }
    }, () => unknown.size === 0 && recheck.size === 0);
    for (const inode of unknown) this.owners.set(inode, NOT_OURS);
  }

  /** The process table (`ps` on macOS), then `lsof` for the trees' LISTEN sockets: two processes per look, so no caching to do. */
  private async scanLsof(roots: ReadonlyMap<string, number>): Promise<Map<string, ListeningPort[]>> {
    const members = taskOfEachMember(await processTable.read(), roots);
    const result = new Map<string, ListeningPort[]>();
    if (members.size === 0) return result;
    const output = await this.run('lsof', ['-nP', '-a', '-iTCP', '-sTCP:LISTEN', '-p', [...members.keys()].join(','), '-Fptn']);
    for (const { pid, address, port } of parseLsof(output)) {
      const id = members.get(pid);
      if (id !== undefined) result.set(id, [...(result.get(id) ?? []), { address, port }]);
    }
    for (const [id, ports] of result) result.set(id, tidy(ports));
    return result;
  }

  /** A command's stdout; lsof exits 1 when it found nothing. A missing command ends the lsof method for good. */
  private run(command: string, args: string[]): Promise<string> {
    return new Promise((resolve) => {
      execFile(command, args, { timeout: LSOF_TIMEOUT_MS, maxBuffer: 16 << 20 }, (error, stdout) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') this.method = 'none';
        resolve(stdout ?? '');
      });
    });
  }
}

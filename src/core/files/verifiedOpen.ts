// Opening what was checked, and checking what was opened. workspacePath.ts judges a path before use; between
// that check and the open, a folder on the way can be swapped for a symlink (a check-then-use race). So:
// - on Linux, folders are walked from the workspace root one name at a time, each opened with O_NOFOLLOW
//   through the descriptor of the one before (/proc/self/fd/N/name resolves inside that exact folder, like
//   openat), so whatever happens to their names meanwhile, what is opened, created or renamed stays inside;
// - files are opened in such a folder with O_NOFOLLOW (their checked path is real, a link there now is a
//   swap) and O_NONBLOCK (a FIFO swapped in opens at once instead of waiting forever for a writer), then the
//   descriptor itself is asked where it is (/proc/self/fd/N);
// - without /proc (macOS, Windows) folders are checked by path one level at a time and an opened file must be
//   the file now at its checked path (same device and inode) whose path is still real. Both are two lookups,
//   so a swap timed between them can pass: best effort there, not a guarantee (README says so).
import { constants, existsSync, type BigIntStats, type Stats } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { isInside } from './workspacePath';
import { platform } from '../platform';

const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0, O_DIRECTORY = 0 } = constants;

/** Linux names every open descriptor under /proc/self/fd: the kernel's own answer to "what did I open?". */
const PROC_FD = platform.processSource === 'proc' && existsSync('/proc/self/fd');

/** A refusal whose message is the sentence the model reads. */
export class FileRefusal extends Error {
  constructor(
    message: string,
    readonly missing = false,
  ) {
    super(message);
  }
}

/** What a path is when it is neither a regular file nor a folder, for a refusal; undefined otherwise. */
export function specialKind(stats: Stats): string | undefined {
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  return undefined;
}

export interface OpenedFile {
  readonly handle: FileHandle;
  readonly stats: Stats;
}

/**
 * Opens the existing regular file at `absolute` (a path resolveInWorkspace returned) for reading. Throws a
 * FileRefusal for a missing file (`missing` set), a folder, a special file, or a file that is not inside
 * `root` once opened. The caller closes the handle.
 */
export async function openFileForReading(root: string, absolute: string, display: string): Promise<OpenedFile> {
  if (absolute === root) throw directoryRefusal(display);
  let folder: VerifiedFolder;
  try {
    folder = await VerifiedFolder.open(root, path.dirname(absolute), { create: false, display });
  } catch (error) {
    throw error instanceof FileRefusal && error.missing ? new FileRefusal(`File not found: ${display}.`, true) : error;
  }
  try {
    // Opened through the checked folder: nothing outside is even opened (opening has effects on FIFOs and devices).
    const target = folder.child(path.basename(absolute));
    const before = await lstat(target).catch(() => undefined);
    if (!before) throw new FileRefusal(`File not found: ${display}.`, true);
    if (before.isDirectory()) throw directoryRefusal(display);
    const kind = specialKind(before);
    if (kind) throw new FileRefusal(refusedKind(display, kind));
    let handle: FileHandle;
    try {
      handle = await open(target, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      throw openError(error, display);
    }
    try {
      await verifyOpened(root, handle, absolute, display);
      const stats = await handle.stat();
      if (!stats.isFile()) throw stats.isDirectory() ? directoryRefusal(display) : new FileRefusal(refusedKind(display, specialKind(stats) ?? 'not a regular file'));
      return { handle, stats };
    } catch (error) {
      await handle.close();
      throw error;
    }
  } finally {
    await folder.close();
  }
}

/** A folder inside the workspace held open, so that names inside it resolve in it whatever its path becomes. */
export class VerifiedFolder {
  private constructor(
    /** Held open on Linux only (see byPath for the rest). */
    private readonly handle: FileHandle | undefined,
    /** Its real path when it was opened, for messages and for systems without /proc. */
    readonly path: string,
  ) {}

  /**
   * Opens `folder` (a real path inside `root`) by walking down from `root`; with `create`, missing folders
   * on the way are made. Throws a FileRefusal when a name on the way is not a folder or is now a link.
   */
  static async open(root: string, folder: string, options: { create: boolean; display: string }): Promise<VerifiedFolder> {
    if (!isInside(root, folder)) throw new FileRefusal(`${options.display} is outside the workspace.`);
    if (!PROC_FD) return VerifiedFolder.byPath(root, folder, options);
    let current = new VerifiedFolder(await open(root, O_RDONLY | O_DIRECTORY), root);
    try {
      for (const name of path.relative(root, folder).split(path.sep).filter(Boolean)) {
        const next = await current.openChild(name, options);
        await current.close();
        current = next;
      }
      if (current.handle) await verifyOpened(root, current.handle, current.path, options.display);
      return current;
    } catch (error) {
      await current.close();
      throw error;
    }
  }

  /**
   * Without /proc (macOS; Windows cannot even open a folder): made by name, then its real path must be
   * inside. Names in it are then resolved by path, so a swap timed between this check and the use is not
   * caught here (files opened for reading still are, by device and inode).
   */
  private static async byPath(root: string, folder: string, options: { create: boolean; display: string }): Promise<VerifiedFolder> {
    let current = root;
    try {
      // One level at a time, each checked real and inside before the next is made in it.
      for (const name of path.relative(root, folder).split(path.sep).filter(Boolean)) {
        const next = path.join(current, name);
        if (options.create) await mkdirIfMissing(next);
        const real = await realpath(next);
        if (!isInside(root, real)) throw new FileRefusal(`${options.display} changed while it was being used and now leads outside the workspace; nothing was written.`);
        if (!(await stat(real)).isDirectory()) throw new FileRefusal(`${options.display}: ${real} is not a folder.`);
        current = real;
      }
      return new VerifiedFolder(undefined, current);
    } catch (error) {
      throw error instanceof FileRefusal ? error : folderError(error, current, options.display);
    }
  }

  /** A path for `name` in this folder: through its descriptor on Linux, so a swap of the folder's path changes nothing. */
  child(name: string): string {
    return this.handle ? `/proc/self/fd/${this.handle.fd}/${name}` : path.join(this.path, name);
  }

  /** A path that enters this very folder from any process while it is held (Linux); undefined elsewhere. */
  get entryPath(): string | undefined {
    return this.handle ? `/proc/${process.pid}/fd/${this.handle.fd}` : undefined;
  }

  async close(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
  }

  private async openChild(name: string, options: { create: boolean; display: string }): Promise<VerifiedFolder> {
    const childPath = path.join(this.path, name);
    const openIt = () => open(this.child(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      return new VerifiedFolder(await openIt(), childPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' || !options.create) throw folderError(error, childPath, options.display);
    }
    try {
      await mkdirIfMissing(this.child(name));
      return new VerifiedFolder(await openIt(), childPath);
    } catch (error) {
      throw folderError(error, childPath, options.display);
    }
  }
}

/** Throws unless the open descriptor is inside `root` (see the top of this file). */
async function verifyOpened(root: string, handle: FileHandle, expected: string, display: string): Promise<void> {
  const actual = PROC_FD ? await readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined) : await sameFileAt(handle, expected);
  if (actual === undefined || !isInside(root, actual)) {
    throw new FileRefusal(`${display} changed while it was being opened and now leads outside the workspace; nothing was read or written.`);
  }
}

/** Without /proc: `expected` if the file there now is the one opened and `expected` is still its real path. */
async function sameFileAt(handle: FileHandle, expected: string): Promise<string | undefined> {
  const [opened, there, real] = await Promise.all([
    handle.stat({ bigint: true }),
    stat(expected, { bigint: true }).catch(() => undefined),
    realpath(expected).catch(() => undefined),
  ]);
  return there && sameInode(opened, there) && real === expected ? expected : undefined;
}

function sameInode(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

async function mkdirIfMissing(folder: string): Promise<void> {
  await mkdir(folder).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

function directoryRefusal(display: string): FileRefusal {
  return new FileRefusal(`${display} is a directory, not a file; list it with bash (e.g. \`ls ${display}\`).`);
}

function refusedKind(display: string, kind: string): string {
  return `${display} is ${kind}, not a regular file; the file tools only use regular files (opening it could wait forever).`;
}

function openError(error: unknown, display: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new FileRefusal(`File not found: ${display}.`, true);
  if (code === 'ELOOP') return new FileRefusal(`${display} was replaced by a symbolic link while it was being opened; nothing was read or written.`);
  return error instanceof Error ? error : new Error(String(error));
}

function folderError(error: unknown, at: string, display: string): Error {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOTDIR') return new FileRefusal(`${display}: ${at} is not a folder.`);
  if (code === 'ELOOP') return new FileRefusal(`${display}: ${at} was replaced by a symbolic link while it was being used; nothing was written.`);
  if (code === 'ENOENT') return new FileRefusal(`${display}: the folder ${at} does not exist.`, true);
  return error instanceof Error ? error : new Error(String(error));
}

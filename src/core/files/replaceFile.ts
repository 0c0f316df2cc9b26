// Writing a workspace file without ever writing through something: the new content goes to a temporary file
// created (O_EXCL, O_NOFOLLOW) in the verified folder, then is renamed over the name. A rename replaces the
// directory entry, so a hard link to an outside file is left alone (its other names keep the old content),
// a symlink swapped in at the last moment is replaced rather than followed, and a reader never sees half a
// file. The file keeps its permission bits (and its owner where we may set it); the temporary file is
// private to us until then, so an edit of a 0600 file never shows its content to others.
// Where a rename cannot keep what the file is (a folder we may not create in, a file someone else owns), the
// content is written in place through a verified descriptor instead, for a file with a single link only.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, lstat, open, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { FileRefusal, specialKind, VerifiedFolder } from './verifiedOpen';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW = 0, O_NONBLOCK = 0, W_OK } = constants;

/** Longest temporary name prefix taken from the file's name, in bytes (names may have 255). */
const TEMP_NAME_BYTES = 200;

/** Creates or replaces the file at `absolute` (a real path inside `root`), making missing folders. */
export async function replaceFile(root: string, absolute: string, content: string | Uint8Array, display: string): Promise<{ created: boolean }> {
  const folder = await VerifiedFolder.open(root, path.dirname(absolute), { create: true, display });
  try {
    const name = path.basename(absolute);
    const target = folder.child(name);
    const existing = await lstat(target).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (existing?.isDirectory()) throw new FileRefusal(`${display} is a directory; it needs a file path.`);
    if (existing && !existing.isFile()) throw new FileRefusal(`${display} is ${specialKind(existing) ?? 'not a regular file'} now; nothing was written.`);
    if (existing && !(await access(target, W_OK).then(() => true, () => false))) {
      throw new FileRefusal(`${display} is read-only (mode ${(existing.mode & 0o777).toString(8)}); nothing was written. Change its permissions first if it should change.`);
    }
    const written = await writeThenRename(folder, name, content, existing);
    if (written === 'keep-in-place') await writeInPlace(target, content, display);
    return { created: !existing };
  } finally {
    await folder.close();
  }
}

/** The usual way; 'keep-in-place' when a rename would lose the file's owner or the folder takes no new file. */
async function writeThenRename(folder: VerifiedFolder, name: string, content: string | Uint8Array, existing: Stats | undefined): Promise<'done' | 'keep-in-place'> {
  const temp = folder.child(`.${cutToBytes(name, TEMP_NAME_BYTES)}.${randomBytes(4).toString('hex')}.tmp`);
  let handle;
  try {
    // New content may be anyone's to read as a new file is; an existing file's stays private until renamed.
    handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, existing ? 0o600 : 0o666);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (existing && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) return 'keep-in-place';
    throw error;
  }
  let outcome: 'done' | 'keep-in-place' = 'keep-in-place';
  try {
    try {
      await handle.writeFile(content);
      if (existing) {
        const ownerKept = await handle.chown(existing.uid, existing.gid).then(() => true, () => false);
        if (!ownerKept) return outcome;
        await handle.chmod(existing.mode & 0o7777);
      }
    } finally {
      await handle.close();
    }
    await rename(temp, folder.child(name));
    outcome = 'done';
    return outcome;
  } finally {
    // Not renamed (a failure, or the file is kept in place): the temporary file goes.
    if (outcome !== 'done') await unlink(temp).catch(() => undefined);
  }
}

/** Through a descriptor of the verified folder, never following a link, and only into a file with one name. */
async function writeInPlace(target: string, content: string | Uint8Array, display: string): Promise<void> {
  const handle = await open(target, O_WRONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new FileRefusal(`${display} is ${specialKind(stats) ?? 'not a regular file'} now; nothing was written.`);
    if (stats.nlink > 1) {
      throw new FileRefusal(
        `${display} has ${stats.nlink} hard links and cannot be replaced here (its folder takes no new file, or it belongs to someone else); ` +
          'writing into it would change every linked name, so nothing was written.',
      );
    }
    await handle.truncate(0);
    await handle.writeFile(content);
  } finally {
    await handle.close();
  }
}

/** `name` cut to at most `bytes` UTF-8 bytes, at a character boundary. */
function cutToBytes(name: string, bytes: number): string {
  if (Buffer.byteLength(name) <= bytes) return name;
  let cut = '';
  for (const char of name) {
    if (Buffer.byteLength(cut + char) > bytes) break;
    cut += char;
  }
  return cut;
}

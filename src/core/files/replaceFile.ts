// Writing a workspace file without ever writing through something: the new content goes to a temporary file
// created (O_EXCL, O_NOFOLLOW) in the verified folder, then is renamed over the name. A rename replaces the
// directory entry, so a hard link to an outside file is left alone (its other names keep the old content),
// a symlink swapped in at the last moment is replaced rather than followed, and a reader never sees half a
// file. The file keeps its permission bits.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, rename, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { FileRefusal, specialKind, VerifiedFolder } from './verifiedOpen';

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW = 0 } = constants;

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
    const kind = existing && !existing.isFile() ? specialKind(existing) : undefined;
    if (existing && !existing.isFile()) throw new FileRefusal(`${display} is ${kind ?? 'not a regular file'} now; nothing was written.`);
    const temp = folder.child(`.${name.slice(0, 180)}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await open(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o666);
    try {
      try {
        await handle.writeFile(content);
        if (existing) await handle.chmod(existing.mode & 0o7777);
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    return { created: !existing };
  } finally {
    await folder.close();
  }
}

// Keeps a flooding task's log from filling the disk. The process writes its log itself (nothing reads in
// between: that is what keeps a flood as fast as `cat`), so the log is trimmed in place, while the
// process keeps writing at its own offset. Once the log holds more than the cap:
//   1. read its newest TAIL_KEEP bytes (up to the size D just seen),
//   2. truncate it to its first bytes: everything after them is dropped (the writer's next bytes land at
//      its offset, past D, and the file is sparse before them),
//   3. write the newest bytes back where they were, into the hole.
// So the log keeps how the command started, its newest output, and everything after; byte offsets stay
// true. Why truncate and not punch a hole (`fallocate --punch-hole`, which would keep more of the newest
// output): ext4 writes the dirty pages of a punched range to disk before freeing them, which made a
// 1 GiB flood 35-45% slower here; a truncate drops them unwritten and cost nothing measurable.
// The price: bytes the process writes between steps 1 and 2 are lost, and read back as zeros right at D;
// readers skip that run of zeros (`DroppedRange.lostAt`). Steps 1-2 take about a millisecond, in which a
// flood writes about 1 MB (runs up to 7 MB were measured on a busy 2-core machine).
import { statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { TaskRecord } from './taskRecord';

export const DEFAULT_MAX_LOG_BYTES = 256 * 1024 * 1024;
/** So small caps still leave more new output than TAIL_KEEP between two trims (see `lostAt`). */
const MIN_MAX_LOG_BYTES = 4 * 1024 * 1024;
/** The first bytes of a log are never dropped. */
const HEAD_KEEP_BYTES = 1024 * 1024;
/** The newest output a trim keeps: far more than any preview, tail or single check_background read. */
const TAIL_KEEP_BYTES = 1024 * 1024;

export class LogTrimmer {
  private maxBytes = DEFAULT_MAX_LOG_BYTES;
  /** Tasks whose log could not be trimmed (unreadable, removed): not tried again. */
  private readonly refused = new WeakSet<TaskRecord>();

  /** Windows fills the skipped part of a file with real zeros: trimming would free nothing there. */
  private readonly available = process.platform !== 'win32';

  constructor(maxLogBytes: number) {
    this.setMaxBytes(maxLogBytes);
  }

  /** A new cap (a changed setting) applies from the next check on; what was dropped stays dropped. */
  setMaxBytes(maxLogBytes: number): void {
    this.maxBytes = Number.isNaN(maxLogBytes) ? DEFAULT_MAX_LOG_BYTES : Math.max(MIN_MAX_LOG_BYTES, maxLogBytes);
  }

  /**
   * Called whenever `record.outputBytes` was refreshed: starts trimming the log if it now holds more than
   * the cap. The trim runs off the main thread (`record.trimming` meanwhile): a truncate that drops a few
   * hundred MB of page cache takes ~40 ms in the kernel, which would stall the window 4 times a second
   * during a flood. Readers wait for it (readTrimmableLogSlice) or use what they read before (bufferOf).
   */
  check(record: TaskRecord): void {
    const previous = record.dropped;
    const droppedBytes = previous ? previous.to - previous.from : 0;
    const kept = record.outputBytes - droppedBytes;
    if (!this.available || record.trimming || kept <= this.maxBytes || this.refused.has(record)) return;
    // outputBytes never shrinks, but bytes lost at the end of the log (written during a trim's read, and
    // nothing after) are not in it: counted, they would start a trim that changes nothing, again and again.
    if ((statSync(record.logPath, { throwIfNoEntry: false })?.size ?? 0) - droppedBytes <= this.maxBytes) return;
    record.trimming = trim(record, previous?.from ?? HEAD_KEEP_BYTES)
      .catch(() => {
        this.refused.add(record);
      })
      .finally(() => (record.trimming = undefined));
  }
}

/** Steps 1-3 above. `record.dropped` follows each step, so a step that fails leaves it true. */
async function trim(record: TaskRecord, from: number): Promise<void> {
  const previousLostAt = record.dropped?.lostAt;
  const file = await open(record.logPath, 'r+');
  try {
    const size = (await file.stat()).size;
    const readStart = Math.max(from, size - TAIL_KEEP_BYTES);
    const tail = Buffer.allocUnsafe(size - readStart);
    const { bytesRead } = await file.read(tail, 0, tail.length, readStart);
    // Only what follows the zeros the previous trim lost is kept: kept, they would read as output.
    const skip = await lostRunEnd(file, tail.subarray(0, bytesRead), readStart, previousLostAt);
    const tailStart = readStart + skip;
    await file.truncate(from);
    // Until the newest bytes are back, they are dropped too.
    record.dropped = { from, to: readStart + bytesRead, lostAt: readStart + bytesRead };
    await file.write(tail, skip, bytesRead - skip, tailStart);
    record.dropped = { from, to: tailStart, lostAt: readStart + bytesRead };
  } finally {
    await file.close();
  }
}

/**
 * Where the run of zeros lost at `lostAt` ends in `tail` (read at `at`), or 0 without one. A flood writes
 * megabytes while a trim runs, so the next trim comes soon and its newest bytes can lie in that run. A run
 * that began before `at` is told as readers tell it (zeros at `lostAt` and at `at`).
 */
async function lostRunEnd(file: FileHandle, tail: Buffer, at: number, lostAt: number | undefined): Promise<number> {
  if (lostAt === undefined || lostAt >= at + tail.length || tail[Math.max(0, lostAt - at)] !== 0) return 0;
  if (lostAt < at) {
    const { bytesRead, buffer } = await file.read(Buffer.alloc(1), 0, 1, lostAt);
    if (bytesRead !== 1 || buffer[0] !== 0) return 0;
  }
  let end = Math.max(0, lostAt - at);
  while (end < tail.length && tail[end] === 0) end++;
  return end;
}

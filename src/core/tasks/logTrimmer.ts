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
import { open } from 'node:fs/promises';
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
    const kept = record.outputBytes - (previous ? previous.to - previous.from : 0);
    if (!this.available || record.trimming || kept <= this.maxBytes || this.refused.has(record)) return;
    record.trimming = trim(record, previous?.from ?? HEAD_KEEP_BYTES)
      .catch(() => {
        this.refused.add(record);
      })
      .finally(() => (record.trimming = undefined));
  }
}

/** Steps 1-3 above. `record.dropped` follows each step, so a step that fails leaves it true. */
async function trim(record: TaskRecord, from: number): Promise<void> {
  const file = await open(record.logPath, 'r+');
  try {
    const size = (await file.stat()).size;
    const tailStart = Math.max(from, size - TAIL_KEEP_BYTES);
    const tail = Buffer.allocUnsafe(size - tailStart);
    const { bytesRead } = await file.read(tail, 0, tail.length, tailStart);
    await file.truncate(from);
    // Until the newest bytes are back, they are dropped too.
    record.dropped = { from, to: tailStart + bytesRead, lostAt: tailStart + bytesRead };
    await file.write(tail, 0, bytesRead, tailStart);
    record.dropped = { from, to: tailStart, lostAt: tailStart + bytesRead };
  } finally {
    await file.close();
  }
}

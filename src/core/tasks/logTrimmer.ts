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
// readers skip that run of zeros (`DroppedRange.lostAt`). The steps run back to back in a worker thread
// (trimWorker.ts), so that gap is microseconds.
import { statSync } from 'node:fs';
import type { TaskRecord } from './taskRecord';
import { TrimWorker } from './trimWorker';

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
  private readonly worker = new TrimWorker();

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
   * hundred MB of page cache takes up to ~47 ms in the kernel, which would stall the window several times
   * a second during a flood. Readers wait for it (readTrimmableLogSlice) or use what they read before (bufferOf).
   */
  check(record: TaskRecord): void {
    const previous = record.dropped;
    const droppedBytes = previous ? previous.to - previous.from : 0;
    const kept = record.outputBytes - droppedBytes;
    if (!this.available || record.trimming || kept <= this.maxBytes || this.refused.has(record)) return;
    // outputBytes never shrinks, but bytes lost at the end of the log (written during a trim's read, and
    // nothing after) are not in it: counted, they would start a trim that changes nothing, again and again.
    if ((statSync(record.logPath, { throwIfNoEntry: false })?.size ?? 0) - droppedBytes <= this.maxBytes) return;
    record.trimming = this.trim(record, previous?.from ?? HEAD_KEEP_BYTES).finally(() => (record.trimming = undefined));
  }

  /** Lets a trim under way finish; none starts afterwards. */
  dispose(): void {
    this.worker.dispose();
  }

  private async trim(record: TaskRecord, from: number): Promise<void> {
    const result = await this.worker.run({ path: record.logPath, from, tailKeep: TAIL_KEEP_BYTES, lostAt: record.dropped?.lostAt });
    const lostAt = result.readStart + result.bytesRead;
    if (result.error === undefined) {
      record.dropped = { from, to: result.readStart + result.skip, lostAt };
      return;
    }
    // Cut but not written back: the newest bytes are gone too.
    if (result.truncated) record.dropped = { from, to: lostAt, lostAt };
    this.refused.add(record);
  }
}

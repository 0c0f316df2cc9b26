// A task's output as the manager knows it. The process writes straight to its log file, so what Node
// holds is derived from that file: the byte count (one stat) and, only when someone asks, the bounded
// head + tail in memory (two small reads), rebuilt when the file has grown since.
import { statSync } from 'node:fs';
import { HeadTailBuffer } from './outputBuffer';
import { readLogEdgesSync } from './taskLog';
import type { TaskRecord } from './taskRecord';

/** Reads the log's size into the record; true if it grew. A missing file counts as no output. */
export function refreshOutputBytes(record: TaskRecord): boolean {
  const size = statSync(record.logPath, { throwIfNoEntry: false })?.size ?? 0;
  if (size <= record.outputBytes) return false;
  record.outputBytes = size;
  return true;
}

/**
 * The record's first and last bytes in memory, read from the log when it has grown since the last read
 * (a restored task's on first use). An unreadable log gives what memory already had, or nothing.
 */
export function bufferOf(record: TaskRecord, headBytes: number, tailBytes: number): HeadTailBuffer {
  if (record.buffer && record.bufferBytes === record.outputBytes) return record.buffer;
  // Mid-trim the newest bytes may be missing from the file: what was read before will do for a moment.
  if (record.buffer && record.trimming) return record.buffer;
  try {
    const edges = readLogEdgesSync(record.logPath, headBytes, tailBytes, record.dropped?.lostAt);
    record.buffer = HeadTailBuffer.fromEdges(edges.head, edges.tail, edges.totalBytes, headBytes, tailBytes);
  } catch {
    record.buffer ??= new HeadTailBuffer(headBytes, tailBytes);
  }
  // Read mid-trim (no earlier buffer), its tail may be the file cut short: read again once the trim is done.
  record.bufferBytes = record.trimming ? undefined : record.outputBytes;
  return record.buffer;
}

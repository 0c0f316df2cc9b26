// One task's output on disk, owned by its Task. The process writes the file itself (its stdout and
// stderr are the file), so nothing reads in between and the file is complete the moment the process has
// exited. TaskLog knows the file's size as last seen, the range dropped from it to keep a flood from
// filling the disk (trimmed in place: see logTrimmer.ts for why and how), and reads it back: byte slices
// (check_background, the output document) and head + tail in memory (previews, notification tails).
import { appendFileSync, mkdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { LogTrimmer } from './logTrimmer';
import { HeadTailBuffer } from './outputBuffer';
import { readLogEdgesSync, readLogSlice } from './outputText';
import type { DroppedRange, OutputSlice } from './types';
import { longScriptPathOf } from './windowsShell';

/** The first bytes of a log are never dropped. */
const HEAD_KEEP_BYTES = 1024 * 1024;
/** The newest output a trim keeps: far more than any preview, tail or single check_background read. */
const TAIL_KEEP_BYTES = 1024 * 1024;

export interface LogState {
  /** Bytes the task has written so far (the file's size as last seen). */
  readonly bytes: number;
  readonly dropped?: DroppedRange;
}

export class TaskLog {
  private bytes: number;
  private droppedRange: DroppedRange | undefined;
  /** Set while a trim runs: the newest bytes may be missing from the file until then. */
  private trimming: Promise<void> | undefined;
  /** A trim failed (unreadable, removed): not tried again. */
  private trimRefused = false;
  /** First and last bytes, read on demand; `bufferBytes` = the size they were read at. */
  private buffer: HeadTailBuffer | undefined;
  private bufferBytes: number | undefined;

  constructor(
    readonly path: string,
    private readonly memory: { readonly headBytes: number; readonly tailBytes: number },
    earlier: LogState = { bytes: 0 },
  ) {
    this.bytes = earlier.bytes;
    this.droppedRange = earlier.dropped;
  }

  /** Bytes written so far: refreshed while running (refreshSize), final once ended. Never shrinks. */
  get outputBytes(): number {
    return this.bytes;
  }

  /** The part of the output trimmed out of the file; readers skip it. */
  get dropped(): DroppedRange | undefined {
    return this.droppedRange;
  }

  /** Resolves once a trim under way is done (at once without one). */
  get trimDone(): Promise<void> {
    return this.trimming ?? Promise.resolve();
  }

  get isTrimming(): boolean {
    return this.trimming !== undefined;
  }

  /** Reads the file's size; true if it grew. A missing file counts as no output. */
  refreshSize(): boolean {
    const size = statSync(this.path, { throwIfNoEntry: false })?.size ?? 0;
    if (size <= this.bytes) return false;
    this.bytes = size;
    return true;
  }

  /**
   * A slice of the output (readLogSlice). It waits for a trim under way; and a trim may start between
   * this read's awaits (the watcher's timer), so a read that went on with the old dropped range could
   * return the zeros of the new hole: then it is done again. No file yet: an empty slice.
   */
  async read(options: { offset?: number; maxBytes?: number; settled: boolean }): Promise<OutputSlice> {
    try {
      for (;;) {
        await this.trimming;
        const dropped = this.droppedRange;
        const slice = await readLogSlice(this.path, { ...options, dropped });
        if (this.trimming === undefined && this.droppedRange === dropped) return slice;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', offset: 0, nextOffset: 0, totalBytes: 0 };
      throw error;
    }
  }

  /**
   * The first and last bytes in memory, read from the file when it has grown since the last read (a
   * restored task's on first use). An unreadable file gives what memory already had, or nothing.
   */
  edges(): HeadTailBuffer {
    const { headBytes, tailBytes } = this.memory;
    if (this.buffer && this.bufferBytes === this.bytes) return this.buffer;
    // Mid-trim the newest bytes may be missing from the file: what was read before will do for a moment.
    if (this.buffer && this.trimming) return this.buffer;
    try {
      const edges = readLogEdgesSync(this.path, headBytes, tailBytes, this.droppedRange);
      this.buffer = HeadTailBuffer.fromEdges(edges.head, edges.tail, edges.totalBytes, headBytes, tailBytes);
    } catch {
      this.buffer ??= new HeadTailBuffer(headBytes, tailBytes);
    }
    // Read mid-trim (no earlier buffer), its tail may be the file cut short: read again once the trim is done.
    this.bufferBytes = this.trimming ? undefined : this.bytes;
    return this.buffer;
  }

  /**
   * Adds a line at the end of the output: in the file if it can, and in memory (so the preview and the
   * notification show it even when the log folder is the problem).
   */
  appendLine(line: string): void {
    const message = Buffer.from(`${line}\n`);
    try {
      appendFileSync(this.path, message);
      this.bytes = statSync(this.path).size;
    } catch {
      // The log folder itself is the problem; read() answers with an empty slice.
      this.buffer = new HeadTailBuffer(this.memory.headBytes, this.memory.tailBytes);
      this.buffer.push(message);
      this.bytes = message.length;
      this.bufferBytes = this.bytes;
    }
  }

  /**
   * Called whenever the size was refreshed: starts trimming the file if it now holds more than the cap.
   * The trim runs off the main thread (see logTrimmer.ts); readers wait for it (read) or use what they
   * read before (edges).
   */
  trimIfOver(trimmer: LogTrimmer): void {
    const previous = this.droppedRange;
    const droppedBytes = previous ? previous.to - previous.from : 0;
    const cap = trimmer.maxBytes;
    if (!trimmer.available || this.trimming || this.trimRefused || this.bytes - droppedBytes <= cap) return;
    // outputBytes never shrinks, but bytes lost at the end of the log (written during a trim's read, and
    // nothing after) are not in it: counted, they would start a trim that changes nothing, again and again.
    if ((statSync(this.path, { throwIfNoEntry: false })?.size ?? 0) - droppedBytes <= cap) return;
    this.trimming = this.trim(trimmer, previous?.from ?? HEAD_KEEP_BYTES).finally(() => (this.trimming = undefined));
  }

  /**
   * Where the task's exit status is written when it ends (shellLauncher.ts), beside the log: how a later
   * window learns the real exit code of a task that ended, or ends, after the one that started it.
   */
  get exitPath(): string {
    return exitPathOf(this.path);
  }

  /** Deletes the files (a task that is forgotten). */
  async remove(): Promise<void> {
    const files = [this.path, this.exitPath, longScriptPathOf(this.path)];
    await Promise.all(files.map((file) => rm(file, { force: true }).catch(() => undefined)));
  }

  private async trim(trimmer: LogTrimmer, from: number): Promise<void> {
    const result = await trimmer.run({ path: this.path, from, tailKeep: TAIL_KEEP_BYTES, lostAt: this.droppedRange?.lostAt });
    const lostAt = result.readStart + result.bytesRead;
    if (result.error === undefined) {
      this.droppedRange = { from, to: result.readStart + result.skip, lostAt };
      return;
    }
    // Cut but not written back: the newest bytes are gone too.
    if (result.truncated) this.droppedRange = { from, to: lostAt, lostAt };
    this.trimRefused = true;
  }
}

/** The exit file beside a log (TaskLog.exitPath). */
export function exitPathOf(logPath: string): string {
  return `${logPath.replace(/\.log$/, '')}.exit`;
}

/** The folder of the tasks' logs, created on first need (once it exists, later starts skip the mkdir). */
export class LogFolder {
  private ready = false;

  constructor(readonly path: string) {}

  /** Creates the folder if not done yet; returns the problem (a sentence for the task's error) if it cannot. */
  ensure(): string | undefined {
    if (this.ready) return undefined;
    try {
      mkdirSync(this.path, { recursive: true });
      this.ready = true;
      return undefined;
    } catch (error) {
      return `Could not create the task log folder ${this.path}: ${(error as Error).message}`;
    }
  }
}

// ---- OutputWatcher notices running tasks' output growing. Their output goes straight to log files, so instead of one event
// per chunk there is one timer for all of them: every interval, one stat per running task, and an
// `output` callback for each whose log grew (a few per second at most, which is all a UI re-renders).
export class OutputWatcher<T extends { readonly log: TaskLog }> {
  private readonly watched = new Set<T>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly onGrew: (record: T) => void,
  ) {}

  watch(record: T): void {
    this.watched.add(record);
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    // Running tasks keep a process alive by themselves; this timer must not.
    this.timer.unref();
  }

  unwatch(record: T): void {
    this.watched.delete(record);
    if (this.watched.size === 0) this.stop();
  }

  dispose(): void {
    this.watched.clear();
    this.stop();
  }

  private poll(): void {
    for (const record of this.watched) if (record.log.refreshSize()) this.onGrew(record);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

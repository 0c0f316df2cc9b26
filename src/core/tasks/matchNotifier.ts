// `notify_on`: while a task runs, output lines that match its pattern are told to its conversation through
// the same queue as completions, so a watcher that prints an error while the agent is away wakes it.
// Batched so a chatty pattern cannot flood the conversation: the first entry goes out at once, later
// matches are collected and go out at most once per BATCH_MS, and after MAX_ENTRIES entries the task's
// matches are only in its log (the last entry says so, and the log is no longer scanned).
import { statSync } from 'node:fs';
import { LineMatcher, LogLineReader, type MatchedLine } from './outputLines';
import type { TaskLog } from './taskLog';
import type { TaskNotification } from './types';

export const MATCH_BATCH_MS = 5000;
/** How often the log is looked at for new lines (a stat; read only when it grew). */
const POLL_MS = 250;
/**
 * Most output matched per look (16 MiB/s): a watcher's output is read whole, while a flood costs a bounded
 * share of the extension host (~10% of a core) and the rest of it is skipped (the next entry says how much).
 */
const BYTES_PER_POLL = 4 * 1024 * 1024;
export const MAX_MATCH_ENTRIES = 20;
/** Matching lines shown in one entry; the rest are counted. */
export const MAX_LINES_PER_ENTRY = 10;

/** What a `matched` entry carries (TaskNotification.match). */
export interface MatchReport {
  readonly pattern: string;
  readonly lines: readonly MatchedLine[];
  /** Matching lines collected but not shown (over MAX_LINES_PER_ENTRY). */
  readonly moreLines: number;
  /** 1 for the task's first entry. */
  readonly entry: number;
  /** The task's last entry: further matches are only in its log. */
  readonly last: boolean;
  /** Output that was never scanned (it came faster than it could be read). */
  readonly unreadBytes?: number;
}

export interface MatchNotifierTask {
  readonly id: string;
  readonly log: TaskLog;
  /** The entry to queue, without its `match` (the task's current state). */
  notificationBase(): Omit<TaskNotification, 'match'> | undefined;
}

export class MatchNotifier {
  private readonly reader: LogLineReader;
  private readonly matcher: LineMatcher;
  private collected: MatchedLine[] = [];
  private extra = 0;
  private entries = 0;
  private lastEntryAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private readonly poller: NodeJS.Timeout;
  private reading: Promise<void> | undefined;
  private again = false;
  private done = false;

  constructor(
    private readonly task: MatchNotifierTask,
    private readonly pattern: RegExp,
    private readonly push: (notification: TaskNotification) => void,
    from = 0,
    private readonly batchMs = MATCH_BATCH_MS,
  ) {
    this.reader = new LogLineReader(task.log, from, BYTES_PER_POLL);
    this.matcher = new LineMatcher(pattern);
    // Its own timer: the manager's output timer only hears of growth that nobody else noticed first.
    this.poller = setInterval(() => this.poll(), POLL_MS);
    this.poller.unref();
  }

  /** Reads and matches what is new, if the log grew (one read at a time; a call during one reads again after it). */
  poll(): void {
    if (this.done) return;
    if ((statSync(this.task.log.path, { throwIfNoEntry: false })?.size ?? 0) <= this.reader.position && !this.reading) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.readNew(false)
      .catch(() => undefined)
      .finally(() => {
        this.reading = undefined;
        if (this.again) {
          this.again = false;
          this.poll();
        }
      });
  }

  /** The task ended: reads the rest of its log and queues what was collected, before its end is queued. */
  async finish(): Promise<void> {
    if (this.done) return;
    await this.reading;
    if (!this.done) await this.readNew(true).catch(() => undefined);
    if (this.collected.length > 0) this.deliver();
    this.dispose();
  }

  dispose(): void {
    this.done = true;
    clearInterval(this.poller);
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async readNew(settled: boolean): Promise<void> {
    const until = this.reader.position + BYTES_PER_POLL;
    for (;;) {
      const { text, more } = await this.reader.read({ settled });
      if (this.done) return;
      for (const match of this.matcher.feed(text)) {
        if (this.collected.length < MAX_LINES_PER_ENTRY) this.collected.push(match);
        else this.extra++;
      }
      // The task's end is read to the end; a running flood waits for the next look.
      if (!more || (!settled && this.reader.position >= until)) break;
    }
    if (!settled) this.schedule();
  }

  /** Queues the collected lines now if the last entry is old enough, else once it is. */
  private schedule(): void {
    if (this.collected.length === 0 || this.timer || this.done) return;
    const wait = this.lastEntryAt + this.batchMs - Date.now();
    // Even the first entry waits a moment: the line after the match (its context) is usually on its way.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.done && this.collected.length > 0) this.deliver();
    }, Math.max(wait, CONTEXT_WAIT_MS));
    this.timer.unref();
  }

  private deliver(): void {
    const base = this.task.notificationBase();
    this.entries++;
    const last = this.entries >= MAX_MATCH_ENTRIES;
    const unread = this.reader.takeSkipped();
    const match: MatchReport = {
      pattern: this.pattern.source,
      lines: this.collected,
      moreLines: this.extra,
      entry: this.entries,
      last,
      ...(unread > 0 && { unreadBytes: unread }),
    };
    this.collected = [];
    this.extra = 0;
    this.lastEntryAt = Date.now();
    if (base) this.push({ ...base, match });
    if (last) this.dispose();
  }
}

/** How long a first match waits for the line after it. */
const CONTEXT_WAIT_MS = 200;

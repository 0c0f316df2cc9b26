// `notify_on`: while a task runs, output lines that match its pattern are told to its conversation through
// the same queue as completions, so a watcher that prints an error while the agent is away wakes it.
// Batched so a chatty pattern cannot flood the conversation: the first entry goes out at once, later
// matches are collected and go out at most once per batch window (5 s), and after MAX_MATCH_ENTRIES
// entries the task's matches are only in its log (the last entry says so, and the log is no longer read).
// Bounded so a flood cannot cost much: each look matches at most BYTES_PER_POLL or LOOK_BUDGET_MS of
// output (in the match worker, patternThread.ts), and what a flood prints past that is skipped and said.
import { statSync } from 'node:fs';
import { LineMatcher, LogLineReader, type MatchedLine } from './outputLines';
import { PatternTooSlowError, type PatternThread } from './patternThread';
import type { TaskLog } from './taskLog';
import type { TaskNotification } from './types';

export const MATCH_BATCH_MS = 5000;
const MAX_MATCH_ENTRIES = 20;
/** Matching lines shown in one entry; the rest are counted. */
const MAX_LINES_PER_ENTRY = 10;
/** How often the log is looked at for new lines (a stat; read only when it grew). */
const POLL_MS = 250;
/** Most output matched per look (16 MiB/s): a watcher's output is read whole, a flood in part. */
const BYTES_PER_POLL = 4 * 1024 * 1024;
/** Most time one look spends matching (a slow pattern on a busy log): ~10-40% of one worker thread. */
const LOOK_BUDGET_MS = 100;
/** How long a first match waits for the line after it (its context), usually on its way. */
const CONTEXT_WAIT_MS = 200;

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
  /** Output that was never matched (it came faster than it could be read, or was trimmed from the log first). */
  readonly unreadBytes?: number;
  /** Found in the output the task printed last, as it ended (its end is told next). */
  readonly atEnd?: boolean;
  /** Why the pattern was given up (it is then the last entry). */
  readonly stoppedBecause?: string;
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
  /** The look under way: looks never overlap (they share the reader's position). */
  private reading: Promise<void> | undefined;
  private finishing = false;
  private done = false;
  private readonly batchMs: number;

  constructor(
    private readonly task: MatchNotifierTask,
    private readonly pattern: RegExp,
    patterns: PatternThread,
    private readonly push: (notification: TaskNotification) => void,
    options: { from?: number; batchMs?: number } = {},
  ) {
    this.reader = new LogLineReader(task.log, options.from ?? 0, BYTES_PER_POLL);
    this.matcher = new LineMatcher(pattern, patterns);
    this.batchMs = options.batchMs ?? MATCH_BATCH_MS;
    // Its own timer: the manager's output timer only hears of growth that nobody else noticed first.
    this.poller = setInterval(() => this.poll(), POLL_MS);
    this.poller.unref();
  }

  /** Reads and matches what is new, if the log grew and no look is under way (the next tick comes soon). */
  poll(): void {
    if (this.done || this.finishing || this.reading) return;
    if ((statSync(this.task.log.path, { throwIfNoEntry: false })?.size ?? 0) <= this.reader.position) return;
    this.reading = this.look(false).finally(() => (this.reading = undefined));
  }

  /** The task ended: reads the rest of its log and queues what was collected, before its end is queued. */
  async finish(): Promise<void> {
    if (this.done || this.finishing) return;
    this.finishing = true;
    await this.reading;
    if (!this.done) await this.look(true);
    if (!this.done && this.collected.length > 0) this.deliver({ atEnd: true });
    this.dispose();
  }

  dispose(): void {
    this.done = true;
    clearInterval(this.poller);
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One look: new output matched, within the look's budget (all of it at the end); never throws. */
  private async look(atEnd: boolean): Promise<void> {
    const until = this.reader.position + BYTES_PER_POLL;
    const deadline = performance.now() + LOOK_BUDGET_MS;
    try {
      for (;;) {
        const { text, more } = await this.reader.read({ settled: atEnd });
        if (this.done) return;
        for (const match of await this.matcher.feed(text)) {
          if (this.collected.length < MAX_LINES_PER_ENTRY) this.collected.push(match);
          else this.extra++;
        }
        if (!more || (!atEnd && (this.reader.position >= until || performance.now() > deadline))) break;
      }
    } catch (error) {
      if (error instanceof PatternTooSlowError && !this.done) this.deliver({ stoppedBecause: error.message });
      // Anything else (the log went away, the manager is shutting down): the next look tries again.
      return;
    }
    if (!atEnd) this.schedule();
  }

  /** Queues the collected lines now if the last entry is old enough, else once it is. */
  private schedule(): void {
    if (this.collected.length === 0 || this.timer || this.done) return;
    const wait = this.lastEntryAt + this.batchMs - Date.now();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.done && !this.finishing && this.collected.length > 0) this.deliver({});
    }, Math.max(wait, CONTEXT_WAIT_MS));
    this.timer.unref();
  }

  private deliver(how: { atEnd?: boolean; stoppedBecause?: string }): void {
    const base = this.task.notificationBase();
    this.entries++;
    const last = this.entries >= MAX_MATCH_ENTRIES || how.stoppedBecause !== undefined;
    const unread = this.reader.takeSkipped();
    const match: MatchReport = {
      pattern: this.pattern.source,
      lines: this.collected,
      moreLines: this.extra,
      entry: this.entries,
      last,
      ...(unread > 0 && { unreadBytes: unread }),
      ...(how.atEnd && { atEnd: true }),
      ...(how.stoppedBecause !== undefined && { stoppedBecause: how.stoppedBecause }),
    };
    this.collected = [];
    this.extra = 0;
    this.lastEntryAt = Date.now();
    if (base) this.push({ ...base, match });
    if (last) this.dispose();
  }
}

// Notices running tasks' output growing. Their output goes straight to log files, so instead of one event
// per chunk there is one timer for all of them: every interval, one stat per running task, and an
// `output` callback for each whose log grew (a few per second at most, which is all a UI re-renders).
import { refreshOutputBytes } from './taskOutput';
import type { TaskRecord } from './taskRecord';

export class OutputWatcher {
  private readonly watched = new Set<TaskRecord>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly onGrew: (record: TaskRecord) => void,
  ) {}

  watch(record: TaskRecord): void {
    this.watched.add(record);
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(), this.intervalMs);
    // Running tasks keep a process alive by themselves; this timer must not.
    this.timer.unref();
  }

  unwatch(record: TaskRecord): void {
    this.watched.delete(record);
    if (this.watched.size === 0) this.stop();
  }

  dispose(): void {
    this.watched.clear();
    this.stop();
  }

  private poll(): void {
    for (const record of this.watched) if (refreshOutputBytes(record)) this.onGrew(record);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

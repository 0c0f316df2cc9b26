// Follows the TCP ports of the running tasks over time (listeningPorts.ts finds them): a look once a
// second while tasks run, every 25 ms while a tool waits for a port (hurry), no timer when nothing runs.
// Looks never overlap, a burst of refreshes is one look, and nothing escapes the timer.
import type { Disposable } from '../events';
import { PortScanner, type ListeningPort } from './listeningPorts';

/** While hurried, the longest time without a full look (when the socket counts did not move). */
const HURRIED_STALE_MS = 75;

export interface PortWatcherOptions {
  /** Running tasks with a known pid, now: task id -> root pid. */
  roots: () => ReadonlyMap<string, number>;
  /** Only when a task's list changed (also to [] when its ports close or it leaves the roots). */
  onChange: (taskId: string, ports: readonly ListeningPort[]) => void;
  idleIntervalMs?: number;
  fastIntervalMs?: number;
  scanner?: PortScanner;
}

/** Polls while tasks run: once a second, every 25 ms while someone waits for a port; no timer otherwise. */
export class PortWatcher implements Disposable {
  private readonly ports = new Map<string, readonly ListeningPort[]>();
  private readonly scanner: PortScanner;
  private readonly idleMs: number;
  private readonly fastMs: number;
  private timer: NodeJS.Timeout | undefined;
  private scanning = false;
  /** refresh() or hurry() asked for a look (also while one ran): the next tick looks in full, soon. */
  private asked = false;
  private lastStart = -Infinity;
  private lastFull = -Infinity;
  private lastCounts: string | undefined;
  private hurries = 0;
  private disposed = false;

  constructor(private readonly options: PortWatcherOptions) {
    this.scanner = options.scanner ?? new PortScanner();
    this.idleMs = options.idleIntervalMs ?? 1000;
    this.fastMs = Math.max(options.fastIntervalMs ?? 25, this.scanner.minIntervalMs);
  }

  /** False where no ports can be found (no /proc, no lsof). */
  get supported(): boolean {
    return this.scanner.available;
  }

  /** True while a scan runs or one is scheduled. */
  get polling(): boolean {
    return this.timer !== undefined || this.scanning;
  }

  /** Polls at the fast interval while any returned handle is not disposed (a tool waits for a port). */
  hurry(): Disposable {
    this.hurries++;
    this.prompt();
    let done = false;
    return {
      dispose: () => {
        if (!done) this.hurries--;
        done = true;
      },
    };
  }

  /** The set of running tasks changed: scan soon; the scan stops the timer when there are no roots. */
  refresh(): void {
    this.prompt();
  }

  /** The latest known ports of a task. */
  portsOf(taskId: string): readonly ListeningPort[] {
    return this.ports.get(taskId) ?? [];
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** A scan now, but not sooner than the fast interval after the last one (a burst of refreshes is one scan). */
  private prompt(): void {
    this.asked = true;
    if (!this.scanning) this.schedule(this.lastStart + this.fastMs - performance.now());
  }

  private schedule(delayMs: number): void {
    if (this.disposed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delayMs));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const asked = this.asked;
    this.asked = false;
    let roots: ReadonlyMap<string, number> = new Map();
    try {
      roots = this.options.roots();
    } catch (error) {
      console.error('[background-agent] the port watcher could not get the running tasks:', error);
    }
    if (roots.size === 0 || !this.scanner.available) return this.apply(new Map());
    this.scanning = true;
    this.lastStart = performance.now();
    // Never throws out of the timer; a failed look changes nothing.
    const found = await this.worthLooking(asked).then((worth) => (worth ? this.scanner.scan(roots) : undefined)).catch(() => undefined);
    this.scanning = false;
    if (this.disposed) return;
    if (found) this.apply(found);
    const interval = this.asked || this.hurries > 0 ? this.fastMs : this.idleMs;
    this.schedule(this.lastStart + interval - performance.now());
  }

  /**
   * Idle ticks and asked-for ones always look. A timed fast tick looks only when the kernel's TCP socket
   * counts moved (a new listener, a closed one move them; 10x cheaper to read than the tables) or the last
   * full look is HURRIED_STALE_MS old (a close and an open between two ticks can leave the counts equal:
   * a restarted server must not cost a waiting tool a whole idle interval).
   */
  private async worthLooking(asked: boolean): Promise<boolean> {
    // Counts are compared between consecutive fast ticks only: the first fast tick always looks.
    const counts = this.hurries > 0 ? await this.scanner.socketCounts() : undefined;
    const moved = counts === undefined || counts !== this.lastCounts;
    this.lastCounts = counts;
    const stale = this.hurries > 0 ? HURRIED_STALE_MS : this.idleMs;
    if (!asked && !moved && this.lastStart - this.lastFull < stale) return false;
    this.lastFull = this.lastStart;
    return true;
  }

  private apply(found: ReadonlyMap<string, ListeningPort[]>): void {
    for (const id of new Set([...this.ports.keys(), ...found.keys()])) {
      const [before, after] = [this.ports.get(id) ?? [], found.get(id) ?? []];
      if (before.length === after.length && before.every((p, i) => p.port === after[i].port && p.address === after[i].address)) continue;
      if (after.length > 0) this.ports.set(id, after);
      else this.ports.delete(id);
      try {
        this.options.onChange(id, after);
      } catch (error) {
        console.error('[background-agent] a port listener threw:', error);
      }
    }
  }
}

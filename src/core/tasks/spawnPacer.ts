// Spreads a burst of spawns over event-loop turns. A spawn is synchronous (fork + exec: ~2.5 ms on a quiet
// 2-core machine, 10+ ms under load, and more in a process holding hundreds of MiB, because fork copies
// its page tables), so 200 starts in one loop would freeze the host for half a second or more. Work
// beyond `budgetMs` of spawning in one turn waits for the next turns, oldest first.
import { performance } from 'node:perf_hooks';

export class SpawnPacer<T> {
  private queue: T[] = [];
  private spentMs = 0;
  private nextTurn: NodeJS.Immediate | undefined;

  /** `spawnLater` runs an item that had to wait (its caller already returned). */
  constructor(
    private readonly budgetMs: number,
    private readonly spawnLater: (item: T) => void,
  ) {}

  /** Runs `spawnNow` at once if this turn's budget allows (returns true), else queues `item` for a later turn. */
  submit(item: T, spawnNow: () => void): boolean {
    if (this.queue.length > 0 || this.spentMs >= this.budgetMs) {
      this.queue.push(item);
      return false;
    }
    this.timed(spawnNow);
    return true;
  }

  /** Drops queued items that must not be spawned any more (cancelled before their turn came). */
  drop(shouldDrop: (item: T) => boolean): void {
    this.queue = this.queue.filter((item) => !shouldDrop(item));
  }

  dispose(): void {
    this.queue = [];
    if (this.nextTurn) clearImmediate(this.nextTurn);
    this.nextTurn = undefined;
  }

  private timed(spawn: () => void): void {
    const began = performance.now();
    try {
      spawn();
    } finally {
      this.spentMs += performance.now() - began;
      // The next turn starts with a fresh budget (and spawns what waited).
      this.nextTurn ??= setImmediate(() => this.turn());
    }
  }

  private turn(): void {
    this.nextTurn = undefined;
    this.spentMs = 0;
    while (this.queue.length > 0 && this.spentMs < this.budgetMs) {
      const item = this.queue.shift() as T;
      this.timed(() => this.spawnLater(item));
    }
  }
}

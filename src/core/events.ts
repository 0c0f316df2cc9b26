// The one event emitter and the one disposable store of the code base (core, the CLI and the extension
// all use them), in the shape VS Code's own `Emitter` and `DisposableStore` have, without `vscode`.

export interface Disposable {
  dispose(): void;
}

/** Subscribes a listener; the returned Disposable unsubscribes it. */
export type Event<T> = (listener: (value: T) => void) => Disposable;

/**
 * Calls every listener even if one throws: a broken view must not stop the engine or the other listeners
 * (the emitter's owner has already brought its own state up to date when it fires).
 */
export class Emitter<T> implements Disposable {
  private readonly listeners = new Set<(value: T) => void>();

  readonly event: Event<T> = (listener) => {
    // A wrapper, so the same function subscribed twice is two subscriptions, each removed by its own dispose.
    const entry = (value: T): void => listener(value);
    this.listeners.add(entry);
    return { dispose: () => this.listeners.delete(entry) };
  };

  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (error) {
        console.error('[background-agent] an event listener threw:', error);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}

/** Disposes what was added to it, newest first, once; anything added after that is disposed at once. */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(item: T): T {
    if (this.disposed) item.dispose();
    else this.items.push(item);
    return item;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const item of this.items.splice(0).reverse()) {
      try {
        item.dispose();
      } catch (error) {
        console.error('[background-agent] a dispose threw:', error);
      }
    }
  }
}

// Calls every listener even if one throws: a broken view must not stop the engine or other listeners.
export function callListeners<T>(listeners: ReadonlySet<(value: T) => void>, value: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (error) {
      // Reported, not rethrown: the manager's own state is already consistent at this point.
      console.error('[background-agent] a task listener threw:', error);
    }
  }
}

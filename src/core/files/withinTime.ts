// A file operation the tool waits for at most `ms`, and not after Stop. The operation gets a signal that is
// aborted then, so a long scan stops between reads; a single file call already running on the thread pool
// cannot be cancelled (a file on a hung network mount can block it), so it finishes on its own and closes
// what it opened, while the tool has already answered. Only reads are waited for this way; writes
// go to a temporary file the tool created itself (replaceFile.ts), which cannot block like that.
import { FileRefusal } from './verifiedOpen';

export function withinTime<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new FileRefusal(`${what} was stopped by the person.`));
  const giveUp = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      giveUp.abort();
      reject(new FileRefusal(`${what} was stopped by the person.`));
    };
    const timer = setTimeout(() => {
      done();
      giveUp.abort();
      reject(new FileRefusal(`${what} took longer than ${ms / 1000} s and was given up (is the file on a slow or hung mount?).`));
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    work(giveUp.signal).then(
      (value) => {
        done();
        resolve(value);
      },
      (error: unknown) => {
        done();
        reject(error);
      },
    );
  });
}

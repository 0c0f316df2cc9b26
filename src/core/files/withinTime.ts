// A file operation the tool waits for at most `ms`, and not after Stop. Node cannot cancel a file call once
// it runs on the thread pool (a file on a hung network mount can block it): the operation finishes on its own
// and closes what it opened, while the tool has already answered. Only reads are waited for this way; writes
// go to a temporary file the tool created itself (replaceFile.ts), which cannot block like that.
import { FileRefusal } from './verifiedOpen';

export function withinTime<T>(work: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
  if (signal.aborted) return Promise.reject(new FileRefusal(`${what} was stopped by the person.`));
  return new Promise<T>((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(new FileRefusal(`${what} was stopped by the person.`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new FileRefusal(`${what} took longer than ${ms / 1000} s and was given up (is the file on a slow or hung mount?).`));
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
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

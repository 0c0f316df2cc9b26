// The match worker thread (its own bundle, dist/matchWorker.js): runs lineMatch.ts for the main thread,
// one request at a time, so that a pattern that backtracks for seconds is the worker's problem, and the
// main thread (the extension host) can stop it (see patternThread.ts).
import { parentPort } from 'node:worker_threads';
import { matchLines } from './lineMatch';

export interface MatchRequest {
  readonly id: number;
  readonly source: string;
  readonly text: string;
  readonly previousLine?: string;
}

const compiled = new Map<string, RegExp>();

parentPort?.on('message', (request: MatchRequest) => {
  let pattern = compiled.get(request.source);
  if (!pattern) {
    // Checked before it was sent (outputPattern.ts); the cache only grows with the patterns in use.
    pattern = new RegExp(request.source);
    if (compiled.size > 100) compiled.clear();
    compiled.set(request.source, pattern);
  }
  parentPort?.postMessage({ id: request.id, ...matchLines(pattern, request.text, request.previousLine) });
});

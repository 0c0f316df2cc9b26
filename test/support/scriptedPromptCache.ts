// A simulated prompt cache, so that a test or bench can see what our cache_control placement would
// save against the real API. Like the API: a request's blocks form a prefix in the order tools → system
// → messages; each block carrying cache_control is a breakpoint whose prefix gets written to the cache;
// a later request reads the longest cached prefix it shares. Two of the API's rules are kept because
// they change the numbers a lot: a prefix under 1024 tokens is never cached (the minimum for Sonnet and
// Opus), and a breakpoint also finds a hit at any of the 20 block boundaries before it, which is how a
// conversation that moved its last breakpoint forward still reads what the previous turn wrote.
import { createHash } from 'node:crypto';
import type { MessagesBody, ScriptedUsage } from './scriptedSteps';
import { requestParts } from './scriptedTokens';

const MIN_CACHEABLE_TOKENS = 1024;
const LOOKBACK_BLOCKS = 20;

export type CacheUsage = Omit<ScriptedUsage, 'output_tokens'>;

export class PromptCache {
  /** sha256 of every prefix written so far. */
  private readonly written = new Set<string>();

  /** The request's input usage against the cache as it stands, then writes its breakpoints' prefixes. */
  usageFor(body: MessagesBody): CacheUsage {
    const parts = requestParts(body);
    const breakpoints = parts.flatMap((part, i) => (part.breakpoint ? [i] : []));
    // Hash only the boundaries a breakpoint can hit (a few dozen at most), whatever the history's length.
    const looked = new Set(breakpoints.flatMap((b) => Array.from({ length: Math.min(b, LOOKBACK_BLOCKS) + 1 }, (_, k) => b - k)));
    const prefixes = new Map<number, { hash: string; tokens: number }>();
    const hash = createHash('sha256');
    let total = 0;
    parts.forEach((part, i) => {
      hash.update(part.key);
      total += part.tokens;
      // copy() digests the prefix so far and leaves `hash` to go on with the next block.
      if (looked.has(i)) prefixes.set(i, { hash: hash.copy().digest('hex'), tokens: total });
    });

    let read = 0;
    for (const prefix of prefixes.values()) if (this.written.has(prefix.hash)) read = Math.max(read, prefix.tokens);
    const last = breakpoints.length > 0 ? prefixes.get(breakpoints[breakpoints.length - 1]) : undefined;
    const upToLast = last && last.tokens >= MIN_CACHEABLE_TOKENS ? last.tokens : 0;
    const creation = Math.max(0, upToLast - read);
    for (const b of breakpoints) {
      const prefix = prefixes.get(b);
      if (prefix && prefix.tokens >= MIN_CACHEABLE_TOKENS) this.written.add(prefix.hash);
    }
    return { input_tokens: total - read - creation, cache_creation_input_tokens: creation, cache_read_input_tokens: read };
  }

  reset(): void {
    this.written.clear();
  }
}

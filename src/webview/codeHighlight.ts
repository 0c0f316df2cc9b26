// Colours code blocks after they are shown, never before: the highlighter is a separate bundle loaded on the
// first code block (a script element with the page's nonce, so the CSP needs nothing new), and blocks are
// highlighted in idle time a few at a time, so neither a chat's first paint nor a streaming answer waits for
// it. A block still streaming is highlighted once it is complete (StreamingMarkdown queues frozen chunks and
// finished answers only). Until then, and for languages it does not know, a block is plain text.

export interface Highlighter {
  /** HTML with the code escaped; undefined for a language it does not know. */
  highlight(code: string, language: string): string | undefined;
}

declare global {
  interface Window {
    bgAgentHighlighter?: Highlighter;
  }
}

/** Larger blocks stay plain: one block is highlighted in one go, and 20,000 characters take about 10–20 ms. */
const MAX_HIGHLIGHT_CHARS = 20_000;
/** Work per idle slice before yielding to the page. */
const SLICE_MS = 8;

const pending: HTMLElement[] = [];
let loading: Promise<Highlighter | undefined> | undefined;
let scheduled = false;

/** Queues the not yet highlighted code blocks under `root`. */
export function highlightCodeIn(root: ParentNode): void {
  const blocks = root.querySelectorAll<HTMLElement>('code[data-lang]:not([data-highlighted])');
  if (blocks.length === 0) return;
  pending.push(...blocks);
  schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  const run = (): void => {
    void loadHighlighter().then((highlighter) => {
      scheduled = false;
      if (highlighter) work(highlighter);
      else pending.length = 0;
    });
  };
  if (typeof requestIdleCallback === 'function') requestIdleCallback(run, { timeout: 500 });
  else setTimeout(run, 16);
}

function work(highlighter: Highlighter): void {
  const start = performance.now();
  while (pending.length > 0 && performance.now() - start < SLICE_MS) {
    const code = pending.shift()!;
    // Re-rendered (a streaming tail) or removed (another chat opened) since it was queued: nothing to do.
    if (!code.isConnected || code.dataset.highlighted) continue;
    code.dataset.highlighted = 'true';
    const text = code.textContent ?? '';
    if (text.length > MAX_HIGHLIGHT_CHARS) continue;
    const html = highlighter.highlight(text, code.dataset.lang ?? '');
    if (html === undefined) continue;
    code.innerHTML = html;
    code.classList.add('hljs');
  }
  if (pending.length > 0) schedule();
}

function loadHighlighter(): Promise<Highlighter | undefined> {
  loading ??= new Promise((resolve) => {
    if (window.bgAgentHighlighter) return resolve(window.bgAgentHighlighter);
    // The page's own script tag says where the highlighter is and carries the nonce the CSP allows.
    const page = document.querySelector<HTMLScriptElement>('script[data-highlighter]');
    const src = page?.dataset.highlighter;
    if (!page || !src) return resolve(undefined);
    const script = document.createElement('script');
    script.nonce = page.nonce;
    script.src = src;
    script.addEventListener('load', () => resolve(window.bgAgentHighlighter));
    script.addEventListener('error', () => resolve(undefined));
    document.head.append(script);
  });
  return loading;
}

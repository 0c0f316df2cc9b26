// Markdown → HTML for answers. `marked` (small, fast, well kept) with three safety rules of our own,
// because marked itself passes raw HTML through: raw HTML is shown as text, only http(s)/mailto and
// relative links survive (as inert anchors whose clicks the webview forwards to the extension), and
// images become links (remote images would load without the person asking; the CSP blocks them too).
import { Marked, type Tokens } from 'marked';
import { parseCodeInfo } from './codeInfo';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ESCAPES[ch]);
}

/** Null when the link must not be followed (javascript:, data:, vbscript:, file:, command: …). */
export function safeHref(href: string): string | null {
  const trimmed = href.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(trimmed);
  if (!scheme) return trimmed; // relative: a workspace path, opened by the extension
  return ['http', 'https', 'mailto'].includes(scheme[1].toLowerCase()) ? trimmed : null;
}

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    link({ href, title, tokens }: Tokens.Link): string {
      const label = this.parser.parseInline(tokens);
      const safe = safeHref(href);
      if (safe === null) return `<span class="blocked-link" title="Link blocked">${label}</span>`;
      const titleAttr = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(safe)}" data-href="${escapeHtml(safe)}"${titleAttr}>${label}</a>`;
    },
    image({ href, text }: Tokens.Image): string {
      const safe = safeHref(href);
      const label = `<span class="codicon codicon-file-media" aria-hidden="true"></span> ${escapeHtml(text || 'image')}`;
      return safe === null ? `<span>${label}</span>` : `<a href="${escapeHtml(safe)}" data-href="${escapeHtml(safe)}">${label}</a>`;
    },
    code({ text, lang }: Tokens.Code): string {
      const { language, path } = parseCodeInfo(lang);
      const label = path ?? language;
      const langLabel = label ? `<span class="code-lang" title="${escapeHtml(label)}">${escapeHtml(label)}</span>` : '';
      // Highlighted later, off the first paint (codeHighlight.ts): the block is plain text until then.
      const langAttribute = language ? ` data-lang="${escapeHtml(language)}"` : '';
      const pathAttribute = path ? ` data-path="${escapeHtml(path)}"` : '';
      const open = path
        ? toolbarButton('open-code', 'go-to-file', `Open ${path} in Editor`)
        : '';
      return (
        `<div class="code-block"${pathAttribute}>` +
        `<div class="code-toolbar">${langLabel}<span class="code-actions">${open}` +
        toolbarButton('insert-code', 'insert', 'Insert at Cursor') +
        toolbarButton('copy-code', 'copy', 'Copy code') +
        `</span></div><pre><code${langAttribute}>${escapeHtml(text)}</code></pre></div>`
      );
    },
  },
});

function toolbarButton(className: string, iconName: string, label: string): string {
  return (
    `<button type="button" class="icon-button ${className}" aria-label="${escapeHtml(label)}" title="${escapeHtml(label)}">` +
    `<span class="codicon codicon-${iconName}" aria-hidden="true"></span></button>`
  );
}

export function renderMarkdown(source: string): string {
  return marked.parse(source, { async: false });
}

/**
 * The first Markdown render of a page costs tens of milliseconds (the parser's regular expressions and
 * code are compiled on first use). Pay it in small idle slices when the view opens instead of in the
 * first frame of a streaming answer.
 */
export function warmUpMarkdown(): void {
  const samples = ['# h\n\npara **b** _i_ `c` [l](https://x.y)', '- a\n- b\n\n1. c\n2. d', '```ts\nconst a = 1;\n```\n\n> q', '| a | b |\n|---|---|\n| 1 | 2 |', 'x<b>y</b> ~~s~~ ![i](p.png) www.example.com'];
  const idle = (run: () => void): void => {
    if (typeof requestIdleCallback === 'function') requestIdleCallback(run, { timeout: 2000 });
    else setTimeout(run, 50);
  };
  const next = (): void => {
    const sample = samples.shift();
    if (sample === undefined) return;
    renderMarkdown(sample);
    idle(next);
  };
  idle(next);
}

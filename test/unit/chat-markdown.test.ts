// The chat's Markdown is safe by construction: raw HTML shows as text, only http(s)/mailto/relative links
// survive, images become links, and code blocks carry a copy button. Also the protocol's run-time check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isWebviewMessage } from '../../src/shared/protocol';
import { parseCodeInfo } from '../../src/webview/codeInfo';
import { renderMarkdown, safeHref } from '../../src/webview/markdown';
import { cutForCard, MAX_CARD_RESULT, summarizeToolInput } from '../../src/vscode/chat/toolSummary';

describe('chat Markdown', () => {
  it('renders Markdown', () => {
    const html = renderMarkdown('# Title\n\nSome **bold** and `code`.\n\n- a\n- b');
    assert.match(html, /<h1>Title<\/h1>/);
    assert.match(html, /<strong>bold<\/strong>/);
    assert.match(html, /<code>code<\/code>/);
    assert.match(html, /<li>a<\/li>/);
  });

  it('shows raw HTML as text, never as markup', () => {
    const html = renderMarkdown('<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)> <b>b</b>');
    assert.doesNotMatch(html, /<script|<img|<b>/i);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.match(html, /&lt;img src=x onerror=alert\(1\)&gt;/);
  });

  it('escapes text and attributes', () => {
    const html = renderMarkdown('a < b & c [x](https://e.com/?a="b" "t\\"itle")');
    assert.match(html, /a &lt; b &amp; c/);
    assert.doesNotMatch(html, /"b"/);
  });

  it('blocks javascript:, data:, vbscript: and command: links and keeps web and relative ones', () => {
    for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,x', 'vbscript:x', 'command:workbench.action.quit', 'file:///etc/passwd']) {
      assert.equal(safeHref(bad), null, bad);
      assert.doesNotMatch(renderMarkdown(`[x](${bad})`), /<a /, bad);
    }
    assert.equal(safeHref('https://example.com'), 'https://example.com');
    assert.equal(safeHref('mailto:a@b.c'), 'mailto:a@b.c');
    assert.equal(safeHref('src/main.ts#L3'), 'src/main.ts#L3');
    assert.match(renderMarkdown('[docs](https://example.com)'), /<a href="https:\/\/example.com" data-href="https:\/\/example.com">docs<\/a>/);
  });

  it('turns images into links so nothing loads unasked', () => {
    const html = renderMarkdown('![diagram](https://example.com/d.png)');
    assert.doesNotMatch(html, /<img/);
    assert.match(html, /data-href="https:\/\/example.com\/d.png"/);
  });

  it('gives code blocks Copy and Insert at Cursor, marks their language for the highlighter, and escapes their content', () => {
    const html = renderMarkdown('```html\n<div>"x"</div>\n```');
    assert.match(html, /aria-label="Copy code"/);
    assert.match(html, /aria-label="Insert at Cursor"/);
    assert.doesNotMatch(html, /Open .* in Editor/, 'no file, no Open in Editor');
    assert.match(html, /<span class="code-lang" title="html">html<\/span>/);
    assert.match(html, /<code data-lang="html">&lt;div&gt;&quot;x&quot;&lt;\/div&gt;<\/code>/);
  });

  it('gives a code block that names its file Open in Editor, with the path escaped', () => {
    const html = renderMarkdown('```ts src/app.ts\nconst a = 1;\n```');
    assert.match(html, /<div class="code-block" data-path="src\/app.ts">/);
    assert.match(html, /aria-label="Open src\/app.ts in Editor"/);
    assert.match(html, /<code data-lang="ts">/);
    // Whatever the info string holds ends up escaped: the language in an attribute and a label, never markup.
    const hostile = renderMarkdown('```"><img src=x onerror=alert(1)> a.ts\nx\n```');
    assert.doesNotMatch(hostile, /<img/);
    assert.match(hostile, /data-lang="&quot;&gt;&lt;img"/);
  });
});

describe('code block info strings', () => {
  it('reads the language and the file in the ways models write them', () => {
    for (const info of ['ts src/app.ts', 'ts:src/app.ts', 'ts title="src/app.ts"', "ts file='src/app.ts'", 'ts path=src/app.ts']) {
      assert.deepEqual(parseCodeInfo(info), { language: 'ts', path: 'src/app.ts' }, info);
    }
    assert.deepEqual(parseCodeInfo('src/app.ts'), { language: 'ts', path: 'src/app.ts' });
    assert.deepEqual(parseCodeInfo('package.json'), { language: 'json', path: 'package.json' });
    assert.deepEqual(parseCodeInfo('lib/util.mjs'), { language: 'js', path: 'lib/util.mjs' });
    assert.deepEqual(parseCodeInfo('Makefile'), { language: 'Makefile' });
  });

  it('keeps languages and words that are not files as they are', () => {
    assert.deepEqual(parseCodeInfo(undefined), { language: '' });
    assert.deepEqual(parseCodeInfo(''), { language: '' });
    assert.deepEqual(parseCodeInfo('python3'), { language: 'python3' });
    assert.deepEqual(parseCodeInfo('bash session'), { language: 'bash' });
    assert.deepEqual(parseCodeInfo('sh npm install'), { language: 'sh' });
    assert.deepEqual(parseCodeInfo('ts ../outside.ts'), { language: 'ts' }, 'a path climbing out is not offered');
    assert.deepEqual(parseCodeInfo('ts ..notes.ts'), { language: 'ts', path: '..notes.ts' }, 'a name starting with two dots is a name');
  });
});

describe('chat protocol and tool cards', () => {
  it('accepts only well-formed webview messages', () => {
    assert.equal(isWebviewMessage({ type: 'send', text: 'hi' }), true);
    assert.equal(isWebviewMessage({ type: 'ready' }), true);
    assert.equal(isWebviewMessage({ type: 'send' }), false);
    assert.equal(isWebviewMessage({ type: 'send', text: 3 }), false);
    assert.equal(isWebviewMessage({ type: 'revealTask', taskId: 'abc' }), true);
    assert.equal(isWebviewMessage({ type: 'resend', id: 'a', text: 'b' }), true);
    assert.equal(isWebviewMessage({ type: 'resend', text: 'b' }), false);
    assert.equal(isWebviewMessage({ type: 'setModel', model: 'm' }), true);
    assert.equal(isWebviewMessage({ type: 'insertCode', text: 'x' }), true);
    assert.equal(isWebviewMessage({ type: 'openFile' }), false);
    assert.equal(isWebviewMessage({ type: 'toString' }), false);
    assert.equal(isWebviewMessage({ type: 'deleteEverything' }), false);
    assert.equal(isWebviewMessage(null), false);
    assert.equal(isWebviewMessage('send'), false);
  });

  it('summarizes each tool call by its command, path or task', () => {
    assert.equal(summarizeToolInput('bash', { command: 'npm test' }), 'npm test');
    assert.equal(summarizeToolInput('background_run', { command: 'npm run build\nnpm test' }), 'npm run build ⏎ npm test');
    assert.equal(summarizeToolInput('edit_file', { path: 'src/a.ts', old_text: 'x', new_text: 'y' }), 'src/a.ts');
    assert.equal(summarizeToolInput('check_background', {}), 'all tasks');
    assert.equal(summarizeToolInput('mystery', { a: 1 }), '{"a":1}');
    assert.ok(summarizeToolInput('bash', { command: 'x'.repeat(1000) }).length <= 301);
  });

  it('cuts long results in the middle for the card', () => {
    const text = `${'a'.repeat(MAX_CARD_RESULT)}${'b'.repeat(100)}`;
    const cut = cutForCard(text);
    assert.ok(cut.length < text.length + 100);
    assert.ok(cut.startsWith('a') && cut.endsWith('b'));
    assert.match(cut, /characters not shown/);
    assert.equal(cutForCard('short'), 'short');
  });
});

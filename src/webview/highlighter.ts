// The syntax highlighter: highlight.js's core with the languages coding answers mostly contain. Its own
// bundle (dist/highlight.js), loaded by codeHighlight.ts when the first code block needs it, so the chat's
// first paint never parses it. It escapes the code itself; its output is spans with `hljs-*` classes, which
// media/chat.css colours for light, dark and high-contrast themes.
import hljs from 'highlight.js/lib/core';
import bash from 'highlight.js/lib/languages/bash';
import cpp from 'highlight.js/lib/languages/cpp';
import diff from 'highlight.js/lib/languages/diff';
import dockerfile from 'highlight.js/lib/languages/dockerfile';
import go from 'highlight.js/lib/languages/go';
import ini from 'highlight.js/lib/languages/ini';
import java from 'highlight.js/lib/languages/java';
import json from 'highlight.js/lib/languages/json';
import makefile from 'highlight.js/lib/languages/makefile';
import markdown from 'highlight.js/lib/languages/markdown';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import shell from 'highlight.js/lib/languages/shell';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';
import type { Highlighter } from './codeHighlight';

// Chosen for size: the chat's scripts stay under 150 KB in all (the highlighter is about 60 KB of it). Each
// grammar carries its own keyword lists, so JavaScript is read by the TypeScript grammar and C by C++'s, and
// CSS/SCSS (27 KB of property names) are left plain.
const LANGUAGES = { bash, cpp, diff, dockerfile, go, ini, java, json, makefile, markdown, python, rust, shell, sql, typescript, xml, yaml };
for (const [name, language] of Object.entries(LANGUAGES)) hljs.registerLanguage(name, language);
hljs.registerAliases(['javascript', 'js', 'jsx', 'mjs', 'cjs', 'node'], { languageName: 'typescript' });
hljs.registerAliases(['c', 'h'], { languageName: 'cpp' });
hljs.registerAliases(['toml'], { languageName: 'ini' });

const highlighter: Highlighter = {
  highlight(code, language) {
    // Aliases (`ts`, `sh`, `py`, `html`, `yml`, …) are known through the languages' own alias lists.
    if (!hljs.getLanguage(language)) return undefined;
    return hljs.highlight(code, { language, ignoreIllegals: true }).value;
  },
};
window.bgAgentHighlighter = highlighter;

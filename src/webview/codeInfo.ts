// What a fenced code block's info string says: its language and, when the model named one, the file it is
// for. Models write the file in several ways; all of these give `ts` and `src/app.ts`:
//   ```ts src/app.ts     ```ts:src/app.ts     ```ts title="src/app.ts"     ```src/app.ts
// A path is only taken when it looks like one (a slash or a file extension, no spaces), so `bash session`
// or `python3` stay languages.

export interface CodeInfo {
  /** Highlighting language (as written, or from the path's extension); empty when unknown. */
  language: string;
  /** Workspace-relative (or absolute) path of the file the block is for. */
  path?: string;
}

const PATH_ATTRIBUTE = /^(?:title|file|filename|path)=["']?([^"']+)["']?$/i;
const LOOKS_LIKE_PATH = /^(?:[\w.~-]+\/)*[\w.~-]*[\w~-]\.[A-Za-z0-9]{1,10}$|^(?:[\w.~-]+\/)+[\w.~-]+$/;

/** Extensions whose language name differs from the extension (highlight.js knows most by alias). */
const LANGUAGE_OF_EXTENSION: Record<string, string> = { mjs: 'js', cjs: 'js', mts: 'ts', cts: 'ts', h: 'c', hpp: 'cpp', cc: 'cpp', yml: 'yaml', htm: 'html', toml: 'ini', sh: 'bash', zsh: 'bash' };

export function parseCodeInfo(info: string | undefined): CodeInfo {
  const words = (info ?? '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { language: '' };
  let [first] = words;
  let path: string | undefined;
  // ```ts:src/app.ts
  const colon = /^([\w+#-]+):(.+)$/.exec(first);
  if (colon && isPath(colon[2])) {
    first = colon[1];
    path = colon[2];
  }
  for (const word of words.slice(1)) {
    if (path) break;
    const attribute = PATH_ATTRIBUTE.exec(word);
    if (attribute && isPath(attribute[1])) path = attribute[1];
    else if (isPath(word)) path = word;
  }
  // ```src/app.ts: the file alone, its extension is the language.
  if (!path && isPath(first) && first.includes('.')) {
    path = first;
    first = languageOfPath(first);
  }
  return path ? { language: first, path } : { language: first };
}

function isPath(word: string): boolean {
  return LOOKS_LIKE_PATH.test(word) && !word.split('/').includes('..');
}

function languageOfPath(path: string): string {
  const extension = /\.([A-Za-z0-9]+)$/.exec(path)?.[1].toLowerCase() ?? '';
  return LANGUAGE_OF_EXTENSION[extension] ?? extension;
}

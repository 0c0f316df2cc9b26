// Command-line flags and environment, parsed and checked before anything starts.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MAX_TURNS } from '../core/agent/agentSession';
import { MIN_CONTEXT_WINDOW } from '../core/agent/context/contextWindow';
import type { ApprovalMode } from '../core/approval/approvalPolicy';
import { parseRule } from '../core/approval/commandRules';

export const DEFAULT_MODEL = 'claude-sonnet-5-5';
export const DEFAULT_MAX_TOKENS = 8192;

export const USAGE = `Usage: background-agent [options]            start a REPL in the current folder
       background-agent -p "PROMPT" [options] run one prompt to the end and exit
(from a checkout: node dist/cli.js [options])

Options:
  -p, --prompt TEXT   run TEXT as one prompt, wait for the background tasks it started, then exit
  --cwd DIR           workspace folder (default: the current folder)
  --model ID          model id (default: $BACKGROUND_AGENT_MODEL, else ${DEFAULT_MODEL})
  --max-turns N       model requests per turn for your prompt and tool results (default ${DEFAULT_MAX_TURNS});
                      requests that only deliver finished tasks' results are free; reaching it exits non-zero
  --no-wait           with -p: exit as soon as the agent ends its turn, killing the tasks it started
  --context-window N  tokens of context the model has (default: the model's known window, else 200000);
                      old results are cleared, then the conversation summarized, to stay under it
  -h, --help          show this help

Approval (every command and every file change passes it; a deny rule always wins):
  --allow RULE        run commands matching RULE without asking (repeatable)
  --deny RULE         never run commands matching RULE (repeatable)
  --allow-edits       change files in the workspace without asking
  -y, --yes           run everything except what --deny names, change files without asking
  RULE is a command prefix by whole words ("npm test", "git status") or /regex/. Read-only commands (ls, cat,
  grep, git status, …) need no rule. On a terminal the CLI asks (y: once, a: always for this run, n: no);
  without one, whatever needs approval is refused and stderr says which flag would allow it.

Environment:
  ANTHROPIC_API_KEY       required
  ANTHROPIC_BASE_URL      an Anthropic-compatible endpoint (default: the Anthropic API)
  BACKGROUND_AGENT_MODEL  default model id`;

export interface CliOptions {
  /** Undefined: start the REPL. */
  prompt?: string;
  cwd: string;
  model: string;
  maxTurns?: number;
  /** Undefined: the model's known window. */
  contextWindow?: number;
  wait: boolean;
  apiKey: string;
  baseURL?: string;
  approval: { mode: ApprovalMode; allow: string[]; deny: string[] };
}

export type ParsedArgs = { kind: 'run'; options: CliOptions } | { kind: 'help' } | { kind: 'error'; message: string };

export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        prompt: { type: 'string', short: 'p' },
        cwd: { type: 'string' },
        model: { type: 'string' },
        'max-turns': { type: 'string' },
        'no-wait': { type: 'boolean' },
        'context-window': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        allow: { type: 'string', multiple: true },
        deny: { type: 'string', multiple: true },
        'allow-edits': { type: 'boolean' },
        yes: { type: 'boolean', short: 'y' },
      },
    }));
  } catch (error) {
    // parseArgs' messages are already one sentence ("Unknown option '--x'…").
    return { kind: 'error', message: `${error instanceof Error ? error.message : String(error)} (see --help)` };
  }
  if (values.help) return { kind: 'help' };

  if (values.prompt !== undefined && values.prompt.trim() === '') return { kind: 'error', message: 'The prompt given with -p is empty.' };
  const cwd = path.resolve(values.cwd ?? process.cwd());
  if (!isDirectory(cwd)) return { kind: 'error', message: `--cwd ${cwd} is not a folder.` };
  let maxTurns: number | undefined;
  if (values['max-turns'] !== undefined) {
    maxTurns = Number(values['max-turns']);
    if (!Number.isInteger(maxTurns) || maxTurns < 1) return { kind: 'error', message: `--max-turns must be a whole number of at least 1, not "${values['max-turns']}".` };
  }
  let contextWindow: number | undefined;
  if (values['context-window'] !== undefined) {
    contextWindow = Number(values['context-window']);
    if (!Number.isInteger(contextWindow) || contextWindow < MIN_CONTEXT_WINDOW) {
      return { kind: 'error', message: `--context-window must be a whole number of tokens, at least ${MIN_CONTEXT_WINDOW}, not "${values['context-window']}".` };
    }
  }
  if (values['no-wait'] && values.prompt === undefined) return { kind: 'error', message: '--no-wait only applies to -p.' };
  const allow = values.allow ?? [];
  const deny = values.deny ?? [];
  for (const [flag, rules] of [['--allow', allow], ['--deny', deny]] as const) {
    for (const rule of rules) {
      const parsed = parseRule(rule);
      if (!parsed.ok) return { kind: 'error', message: `${flag}: ${parsed.message}.` };
    }
  }
  const mode: ApprovalMode = values.yes ? 'auto' : values['allow-edits'] ? 'allowEdits' : 'ask';
  const apiKey = env.ANTHROPIC_API_KEY?.trim();
  if (!apiKey) return { kind: 'error', message: 'ANTHROPIC_API_KEY is not set: export your API key (and ANTHROPIC_BASE_URL for another endpoint) and run again.' };
  return {
    kind: 'run',
    options: {
      prompt: values.prompt,
      cwd,
      model: values.model?.trim() || env.BACKGROUND_AGENT_MODEL?.trim() || DEFAULT_MODEL,
      maxTurns,
      contextWindow,
      wait: !values['no-wait'],
      apiKey,
      baseURL: env.ANTHROPIC_BASE_URL?.trim() || undefined,
      approval: { mode, allow, deny },
    },
  };
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

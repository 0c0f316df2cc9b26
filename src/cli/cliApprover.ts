// How the CLI asks for approval. On a terminal it shows what needs approval (the command and which part of
// it, or the file and its diff) on stderr and reads one answer: y (once), a (always, for this run), n (no).
// Without a terminal (-p in a pipe, CI) nobody can answer: it is refused, the model is told, and stderr
// says which flag would have allowed it. The run's exit code does not change.
import { createInterface } from 'node:readline';
import { STOPPED_MESSAGE, type ApprovalDecision, type ApprovalRequest, type Approver } from '../core/approval/approvalGate';
import { diffPreview } from '../core/approval/diffPreview';
import { oneLine } from '../shared/taskWords';
import type { Printer } from './printer';

/** Reads one line from the person; resolves undefined when `signal` aborts (Ctrl-C stops the turn), null when input ended. */
export type AskLine = (prompt: string, signal: AbortSignal) => Promise<string | undefined | null>;

const QUESTION = 'Allow? [y] yes, once · [a] always, for this run · [n] no: ';
/** Lines of a write's diff shown on the terminal. */
const TERMINAL_DIFF_LINES = 40;

export class CliApprover implements Approver {
  /** The REPL hands in its own line reader (two readers on one stdin would both get each line). */
  private askLine: AskLine | undefined;

  constructor(
    private readonly printer: Printer,
    terminal: boolean,
    /** `auto` (--yes): what still needs approval could not be checked against the deny rules. */
    private readonly auto = false,
  ) {
    this.askLine = terminal ? askOnStdin : undefined;
  }

  useLineReader(askLine: AskLine): void {
    this.askLine = askLine;
  }

  async ask(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    if (!this.askLine) return this.refuse(request);
    for (const line of describe(request)) this.printer.info(line);
    for (;;) {
      const line = await this.askLine(QUESTION, signal);
      if (line === undefined) return { kind: 'deny', message: STOPPED_MESSAGE };
      if (line === null) return { kind: 'deny', message: 'Not done: it needed approval and the terminal\'s input ended before an answer.' };
      const answer = line.trim().toLowerCase();
      if (answer === 'y' || answer === 'yes') return { kind: 'allow' };
      if (answer === 'a' || answer === 'always') return always(request);
      if (answer === 'n' || answer === 'no' || answer === '') return { kind: 'deny' };
      this.printer.info('Answer y, a or n.');
    }
  }

  private refuse(request: ApprovalRequest): ApprovalDecision {
    const what = request.kind === 'command' ? `\`${oneLine(request.command)}\`` : `the change to ${request.path}`;
    const shown = request.kind === 'command' ? oneLine(request.command) : `${request.tool} ${request.path}`;
    if (this.auto) {
      // --yes already: only what could hide a denied command asks, and no flag would change that.
      this.printer.info(`[approval] refused ${shown}: the deny rules (--deny) cannot be checked against it, and there is no terminal to ask`);
      return {
        kind: 'deny',
        message: `Not done: ${what} cannot be checked against the person's deny rules, and the CLI has no terminal to ask on, so it was refused. Name every program it runs plainly (no computed command names, no scripts from files or input).`,
      };
    }
    const flag = flagFor(request);
    this.printer.info(`[approval] refused ${shown}: it needs approval and there is no terminal to ask; ${flag} would allow it`);
    return {
      kind: 'deny',
      message: `Not done: ${what} needs the person's approval and the CLI runs without a terminal to ask on, so it was refused. The person can allow it by running the CLI with ${flag}.`,
    };
  }
}

/** `a` stores the rules the request offers; when it offers none (a redirect, sudo), it counts as `y`. */
function always(request: ApprovalRequest): ApprovalDecision {
  if (request.kind === 'command' ? request.rules !== undefined : request.canAlwaysAllow) return { kind: 'always' };
  return { kind: 'allow' };
}

function flagFor(request: ApprovalRequest): string {
  if (request.kind === 'write') return request.canAlwaysAllow ? '--allow-edits (or --yes)' : '--yes';
  if (!request.rules) return '--yes';
  return `${request.rules.map((rule) => `--allow ${quote(rule)}`).join(' ')} (or --yes)`;
}

function quote(rule: string): string {
  return /^[\w./:@+-]+$/.test(rule) ? rule : `'${rule.replaceAll("'", "'\\''")}'`;
}

function describe(request: ApprovalRequest): string[] {
  if (request.kind === 'command') {
    const lines = [`⏺ approval needed: ${request.tool} ${oneLine(request.command)}`, `  in ${request.cwd}`];
    for (const part of request.parts) lines.push(`  · ${oneLine(part.text)}: ${part.why}`);
    if (request.rules) lines.push(`  (a) allows from now on: ${request.rules.join(', ')}`);
    return lines;
  }
  const lines = [`⏺ approval needed: ${request.tool} ${request.path} (${request.why})`];
  if (request.before === undefined && request.beforeBytes !== undefined) {
    lines.push(`  replaces ${request.beforeBytes} bytes (too large or not text to compare) with ${Buffer.byteLength(request.after)} bytes`);
    return lines;
  }
  const diff = diffPreview(request.before, request.after, TERMINAL_DIFF_LINES);
  lines.push(`  ${request.before === undefined ? 'new file, ' : ''}+${diff.added} -${diff.removed} lines`);
  for (const line of diff.text.split('\n')) lines.push(`  ${line}`);
  if (diff.hiddenLines > 0) lines.push(`  … ${diff.hiddenLines} more lines of diff`);
  return lines;
}

/** One line from stdin on a terminal, for -p (the REPL uses its own reader). The prompt goes to stderr. */
const askOnStdin: AskLine = (prompt, signal) =>
  new Promise((resolve) => {
    // Not in raw mode (terminal: false): Ctrl-C stays a signal for main's handler, which stops the turn.
    if (signal.aborted) return resolve(undefined);
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
    process.stderr.write(prompt);
    let settled = false;
    const done = (answer: string | undefined | null): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      rl.close();
      resolve(answer);
    };
    const onAbort = (): void => done(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    rl.once('line', (line) => done(line));
    rl.once('close', () => done(null));
  });

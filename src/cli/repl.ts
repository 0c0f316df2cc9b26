// The interactive loop: one prompt per line. Ctrl-C stops a running turn; at the prompt it quits. Finished
// background tasks wake the agent between prompts (auto-resume), and the prompt comes back afterwards.
import { createInterface } from 'node:readline';
import { oneLine, statusWord } from '../shared/taskWords';
import type { CliOptions } from './args';
import { errorSentence, ExitCode } from './exitCodes';
import type { Runtime } from './runtime';

const HELP = 'Commands: /tasks lists background tasks, /compact summarizes the conversation now, /exit quits. Ctrl-C stops a turn; at the prompt it quits.';

export interface Repl {
  /** Resolves with the exit code once the person quits or input ends. */
  readonly done: Promise<number>;
  /** Ctrl-C: stops a running turn; at the prompt, quits. */
  interrupt(): void;
  /** SIGTERM: quits at once. */
  terminate(): void;
}

export function runRepl(runtime: Runtime, options: CliOptions): Repl {
  const { session, manager, printer } = runtime;
  const terminal = Boolean(process.stdin.isTTY);
  // Without a terminal (piped input) there is no one to prompt: stdout carries only answers.
  const rl = createInterface({ input: process.stdin, output: terminal ? process.stdout : undefined, prompt: '> ', terminal });
  const queue: string[] = [];
  let pumping = false;
  let inputClosed = false;

  printer.info(`Background Agent · ${options.model} · ${options.cwd}`);
  printer.info(HELP);
  // Approval questions come while a turn runs: the answer is the next line typed, not a new prompt.
  if (terminal) {
    runtime.approver.useLineReader(
      (prompt, signal) =>
        new Promise((resolve) => {
          if (signal.aborted) return resolve(undefined);
          const onAbort = (): void => resolve(undefined);
          signal.addEventListener('abort', onAbort, { once: true });
          rl.question(prompt, { signal }, (answer) => {
            signal.removeEventListener('abort', onAbort);
            resolve(answer);
          });
        }),
    );
  }

  let onInterrupt = (): void => undefined;
  let onTerminate = (): void => undefined;
  const done = new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      turnEnds.dispose();
      rl.removeAllListeners();
      rl.close();
      resolve(code);
    };

    onInterrupt = (): void => {
      if (session.busy) {
        session.stop();
        return;
      }
      finish(ExitCode.Interrupted);
    };
    onTerminate = () => finish(ExitCode.Terminated);
    // With a terminal, readline receives Ctrl-C as a key; without one it arrives as a signal (handled by main).
    rl.on('SIGINT', onInterrupt);

    // Auto-resumed turns happen at the prompt: show the prompt again when one ends.
    const turnEnds = session.onEvent((event) => {
      if (event.type === 'turn_start' && event.trigger === 'background' && !pumping) process.stdout.write('\n');
      if (event.type === 'error') printer.info(errorSentence(event, options));
      if (event.type === 'turn_end' && !pumping && !inputClosed) rl.prompt();
    });

    const pump = async (): Promise<void> => {
      if (pumping) return;
      pumping = true;
      while (queue.length > 0 && !finished) {
        const line = (queue.shift() ?? '').trim();
        if (line === '') continue;
        if (line === '/exit' || line === '/quit') return finish(ExitCode.Ok);
        if (line === '/help') printer.info(HELP);
        else if (line === '/tasks') listTasks();
        else if (line === '/compact') await session.compact();
        else await session.send(line);
      }
      pumping = false;
      if (inputClosed) finish(ExitCode.Ok);
      else if (!finished) rl.prompt();
    };

    const listTasks = (): void => {
      const tasks = manager.list();
      if (tasks.length === 0) printer.info('No background tasks.');
      for (const task of tasks) printer.info(`${task.id}: [${statusWord(task.status)}] ${oneLine(task.command)}`);
    };

    rl.on('line', (line) => {
      queue.push(line);
      void pump();
    });
    // End of input (Ctrl-D, or the end of a piped script): finish what was typed, then quit.
    rl.on('close', () => {
      inputClosed = true;
      if (!pumping) finish(ExitCode.Ok);
    });
    rl.prompt();
  });
  return { done, interrupt: () => onInterrupt(), terminate: () => onTerminate() };
}

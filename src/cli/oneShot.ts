// `-p PROMPT`: one prompt to the end. Waits for the tasks the agent started (their ends wake it again), then
// exits; with --no-wait it exits after the first turn and kills what is still running. A turn that ends
// otherwise (an error, the turn limit: a runaway tool loop) ends the run, saying what was left undelivered.
import type { CliOptions } from './args';
import { errorSentence, ExitCode } from './exitCodes';
import type { Runtime } from './runtime';

export async function runOneShot(runtime: Runtime, options: CliOptions & { prompt: string }, interrupt: AbortSignal): Promise<number> {
  const { session, printer } = runtime;
  // Any turn that ends other than normally (error, turn limit, Ctrl-C) ends the run: stop waiting at once.
  const failed = new AbortController();
  const watch = session.onEvent((event) => {
    if (event.type === 'turn_end' && event.reason !== 'end_turn') failed.abort();
  });
  const onInterrupt = (): void => session.stop();
  interrupt.addEventListener('abort', onInterrupt, { once: true });
  try {
    await session.send(options.prompt);
    if (options.wait && !failed.signal.aborted && !interrupt.aborted) {
      await session.whenSettled(AbortSignal.any([failed.signal, interrupt])).catch(() => undefined);
    }
  } finally {
    watch.dispose();
    interrupt.removeEventListener('abort', onInterrupt);
  }
  if (interrupt.aborted) return ExitCode.Interrupted;
  if (printer.lastError) {
    const { manager } = runtime;
    const left = { undelivered: manager.notifications.pendingCount(session.conversationId), running: manager.runningCount(session.conversationId) };
    printer.info(errorSentence(printer.lastError, options, left));
    return ExitCode.Failed;
  }
  return ExitCode.Ok;
}

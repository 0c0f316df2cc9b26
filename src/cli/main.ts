// Entry point of `node dist/cli.js`: parse flags, build the runtime, run the REPL or one prompt, and make sure
// no process outlives the CLI whatever way it ends (normal end, Ctrl-C, SIGTERM, end of input).
import { parseCliArgs, USAGE } from './args';
import { ExitCode } from './exitCodes';
import { runOneShot } from './oneShot';
import { runRepl } from './repl';
import { createRuntime } from './runtime';

async function main(): Promise<number> {
  // Writing to a closed pipe (`cli -p … | head`) must not crash the run before its tasks are cleaned up.
  process.stdout.on('error', () => undefined);

  const parsed = parseCliArgs(process.argv.slice(2), process.env);
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return ExitCode.Ok;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${parsed.message}\n`);
    return ExitCode.Usage;
  }
  const options = parsed.options;
  const runtime = createRuntime(options, options.prompt === undefined || options.wait);

  let signalExit: number | undefined;
  const interrupt = new AbortController();
  const repl = options.prompt === undefined ? runRepl(runtime, options) : undefined;
  const onSigint = (): void => {
    if (repl) return repl.interrupt();
    signalExit = ExitCode.Interrupted;
    interrupt.abort();
  };
  const onSigterm = (): void => {
    signalExit = ExitCode.Terminated;
    if (repl) return repl.terminate();
    interrupt.abort();
  };
  // A closed terminal (SIGHUP) ends the run like SIGTERM: nothing may outlive the CLI.
  const onSighup = (): void => {
    signalExit = ExitCode.HangUp;
    if (repl) return repl.terminate();
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('SIGHUP', onSighup);
  try {
    const code = repl ? await repl.done : await runOneShot(runtime, { ...options, prompt: options.prompt ?? '' }, interrupt.signal);
    return signalExit ?? code;
  } finally {
    await runtime.shutdown();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`background-agent crashed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(ExitCode.Failed);
  },
);

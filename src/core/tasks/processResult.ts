// How a task's process ended, as both ways of starting one (shellLauncher, directSpawn) report it.
export interface ProcessResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the command could not be started (or its end could not be learned). */
  readonly error?: string;
}

/** One started task's process, however it was started. */
export interface TaskProcess {
  /** Known at once for a direct spawn, a moment later through the launcher. */
  readonly pid: number | undefined;
  /** Resolves once the pid is known, or with undefined if the process never started. */
  readonly started: Promise<number | undefined>;
  /** Stops waiting for the process (the caller kills it) and ends the task now with what is known. */
  detach(): void;
}

export interface StartProcessOptions {
  readonly command: string;
  readonly cwd: string;
  /** Variables added to the inherited environment. */
  readonly env: Readonly<Record<string, string>>;
  /** Inherited variables removed from it. */
  readonly unsetEnv?: readonly string[];
  /** Created (empty) by the runner; receives stdout and stderr in the order they are written. */
  readonly logPath: string;
  /** The pid became known after start() returned (the launcher reports it a moment later). */
  readonly onLatePid: (pid: number) => void;
  /** Called exactly once: the shell exited, the start failed, or detach() was called. */
  readonly onEnd: (result: ProcessResult) => void;
}

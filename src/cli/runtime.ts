// Everything one CLI run owns: a task manager with its log folder, the agent session, the printer wired to
// both. shutdown() kills every task and removes the logs; an exit hook does the same if the process dies early.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createAgentSession } from '../core/agent/session';
import type { AgentSession } from '../core/agent/types';
import { ApprovalGate } from '../core/approval/approvalGate';
import { ApprovalPolicy } from '../core/approval/approvalPolicy';
import { BackgroundManager } from '../core/tasks/backgroundManager';
import type { Disposable } from '../core/tasks/types';
import { DEFAULT_MAX_TOKENS, type CliOptions } from './args';
import { CliApprover } from './cliApprover';
import { removeLogFolder } from './logFolder';
import { Printer } from './printer';

export interface Runtime {
  readonly manager: BackgroundManager;
  readonly session: AgentSession;
  readonly printer: Printer;
  /** Asks on the terminal; the REPL gives it its line reader. */
  readonly approver: CliApprover;
  /** Stops the turn, kills every task (whole trees), removes the logs. Safe to call twice. */
  shutdown(): Promise<void>;
}

export function createRuntime(options: CliOptions, autoResume: boolean): Runtime {
  const logDir = mkdtempSync(path.join(tmpdir(), 'background-agent-cli-'));
  const manager = new BackgroundManager({ logDir });
  const printer = new Printer(process.stdout, process.stderr);
  const approver = new CliApprover(printer, Boolean(process.stdin.isTTY), options.approval.mode === 'auto');
  const policy = new ApprovalPolicy({ mode: options.approval.mode, allowCommands: options.approval.allow, denyCommands: options.approval.deny, trusted: true });
  const session = createAgentSession({
    conversationId: `cli-${process.pid}`,
    cwd: options.cwd,
    manager,
    approval: new ApprovalGate(policy, approver),
    model: options.model,
    maxTokens: DEFAULT_MAX_TOKENS,
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxTurns: options.maxTurns,
    contextWindow: options.contextWindow,
    autoResume,
  });
  const subscriptions: Disposable[] = [session.onEvent(printer.onAgentEvent), manager.onEvent(printer.onTaskEvent)];

  // Last resort if the process exits without shutdown() (an uncaught error): kill synchronously, drop the logs.
  const onExit = (): void => {
    manager.dispose();
    removeLogFolder(logDir);
  };
  process.on('exit', onExit);

  let shutdown: Promise<void> | undefined;
  return {
    manager,
    session,
    printer,
    approver,
    shutdown() {
      shutdown ??= (async () => {
        session.stop();
        const running = manager.list().filter((task) => task.status === 'running');
        await manager.cancelAll();
        // cancelAll resolves once the processes are gone; waiting for each end also lets the printer show it.
        await Promise.all(running.map((task) => manager.waitForEnd(task.id).catch(() => undefined)));
        for (const subscription of subscriptions) subscription.dispose();
        session.dispose();
        manager.dispose();
        removeLogFolder(logDir);
        process.off('exit', onExit);
      })();
      return shutdown;
    },
  };
}

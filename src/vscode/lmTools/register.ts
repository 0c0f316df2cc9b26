// Lends background_run, check_background and cancel_background to other agents through VS Code's
// language-model tools (`vscode.lm.registerTool`; declared under `contributes.languageModelTools`, where VS Code
// reads names, descriptions and input schemas). The calls themselves are core/externalTools: this only turns
// VS Code's shapes into ours and back.
import * as os from 'node:os';
import * as vscode from 'vscode';
import { ExternalToolCalls, type Preparation } from '../../core/externalTools/externalCalls';
import { EXTERNAL_TOOLS, externalName, type ExternalToolName } from '../../core/externalTools/externalTools';
import { commandQuestion } from '../../core/externalTools/confirmationText';
import { ApiKeyStore } from '../chat/apiKey';
import type { Services } from '../services';

const ALLOW = 'Allow';

export interface LmToolsHandle extends vscode.Disposable {
  /** The tools as registered, by their VS Code name (tests call prepareInvocation on them directly). */
  readonly tools: ReadonlyMap<string, vscode.LanguageModelTool<unknown>>;
  readonly calls: ExternalToolCalls;
}

export function registerLmTools(services: Services): LmToolsHandle {
  const apiKeys = new ApiKeyStore(services.context.secrets);
  const calls = new ExternalToolCalls({
    manager: services.manager,
    policy: services.approvalPolicy,
    cwd: () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? os.homedir(),
    askPerson: async (request, description) => {
      // Modal: the person answers before anything else happens, and sees the very command each time.
      const question = commandQuestion(request, description);
      return (await vscode.window.showWarningMessage(question.message, { modal: true, detail: question.detail }, ALLOW)) === ALLOW;
    },
    secrets: async () => [await apiKeys.get(), process.env.ANTHROPIC_API_KEY, process.env.ANTHROPIC_AUTH_TOKEN],
  });
  const tools = new Map(EXTERNAL_TOOLS.map((name) => [externalName(name), lmTool(calls, name)] as const));
  const registrations = [...tools].map(([name, tool]) => vscode.lm.registerTool(name, tool));
  return {
    tools,
    calls,
    dispose: () => registrations.forEach((registration) => registration.dispose()),
  };
}

function lmTool(calls: ExternalToolCalls, name: ExternalToolName): vscode.LanguageModelTool<unknown> {
  return {
    prepareInvocation: (options, token) => withSignal(token, async (signal) => prepared(await calls.prepare(name, options.input, signal))),
    // VS Code's guide: a failure is thrown, with a message that makes sense to the model. Callers get it
    // whole as the error's message (Copilot hands it to its model as the tool's result).
    invoke: (options, token) =>
      withSignal(token, async (signal) => {
        const result = await calls.invoke(name, options.input, signal);
        if (result.isError) throw new Error(result.content);
        return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(result.content)]);
      }),
  };
}

function prepared(preparation: Preparation): vscode.PreparedToolInvocation {
  switch (preparation.kind) {
    case 'run':
      // No confirmationMessages of ours: a command the settings ask about is asked about in invoke (see
      // core/externalTools/externalCalls.ts for why VS Code's confirmation cannot stand for the person's).
      return { invocationMessage: preparation.invocationMessage };
    case 'refuse':
      // Nothing to confirm: invoke refuses with this very reason. (VS Code 1.99 still shows its generic
      // confirmation for every extension tool; the person then reads the refusal as the result.)
      return { invocationMessage: `Will be refused: ${preparation.reason}` };
  }
}

/** The caller's cancellation as the AbortSignal core takes; the listener goes when the call ends. */
async function withSignal<T>(token: vscode.CancellationToken, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  if (token.isCancellationRequested) controller.abort();
  const listener = token.onCancellationRequested(() => controller.abort());
  try {
    return await run(controller.signal);
  } finally {
    listener.dispose();
  }
}

// The `backgroundAgent.*` settings, read fresh every time (never cached) so changes apply to the next request.
import * as vscode from 'vscode';

export interface ChatSettings {
  model: string;
  maxTokens: number;
  autoResume: boolean;
  /** Undefined: the SDK default, which honours ANTHROPIC_BASE_URL. */
  baseURL: string | undefined;
  /** Tokens of context; 0: the model's known window. */
  contextWindow: number;
}

const SECTION = 'backgroundAgent';
export const DEFAULT_MODEL = 'claude-sonnet-5-5';

export function readChatSettings(): ChatSettings {
  const config = vscode.workspace.getConfiguration(SECTION);
  const model = config.get<string>('model', DEFAULT_MODEL).trim() || DEFAULT_MODEL;
  const maxTokens = Math.max(256, Math.floor(config.get<number>('maxTokens', 8192)));
  const baseUrl = config.get<string>('baseUrl', '').trim();
  const contextWindow = Math.max(0, Math.floor(config.get<number>('contextWindow', 0) || 0));
  return { model, maxTokens, autoResume: config.get<boolean>('autoResume', true), baseURL: baseUrl || undefined, contextWindow };
}

export function onChatSettingsChanged(listener: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration(SECTION)) listener();
  });
}

// The Anthropic API key: VS Code's SecretStorage first (set with "Set API Key"), else ANTHROPIC_API_KEY.
import * as vscode from 'vscode';

const SECRET_KEY = 'backgroundAgent.anthropicApiKey';

export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  async get(): Promise<string | undefined> {
    const stored = await this.secrets.get(SECRET_KEY);
    if (stored?.trim()) return stored.trim();
    const fromEnv = process.env.ANTHROPIC_API_KEY?.trim();
    return fromEnv || undefined;
  }

  /** Asks for the key in a password box; resolves true when one was stored. An empty answer clears the stored key. */
  async promptAndStore(): Promise<boolean> {
    const value = await vscode.window.showInputBox({
      title: 'Anthropic API Key',
      prompt: 'Stored in VS Code\'s secret storage. Leave empty to remove the stored key (ANTHROPIC_API_KEY is then used if set).',
      placeHolder: 'sk-ant-…',
      password: true,
      ignoreFocusOut: true,
      validateInput: (text) => (/\s/.test(text.trim()) ? 'An API key has no spaces.' : undefined),
    });
    if (value === undefined) return false;
    if (value.trim() === '') {
      await this.secrets.delete(SECRET_KEY);
      return false;
    }
    await this.secrets.store(SECRET_KEY, value.trim());
    return true;
  }

  onDidChange(listener: () => void): vscode.Disposable {
    return this.secrets.onDidChange((event) => {
      if (event.key === SECRET_KEY) listener();
    });
  }
}

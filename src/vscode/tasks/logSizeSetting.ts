// `backgroundAgent.maxLogSizeMB`: how much of a task's log stays on disk. Applied to the manager at once
// and again whenever the setting changes (running tasks included). Linux and macOS only: on Windows the
// trimmer is not available (logTrimmer.ts), so the value is kept but no log is trimmed there.
import * as vscode from 'vscode';
import type { BackgroundManager } from '../../core/tasks/backgroundManager';

const SETTING = 'backgroundAgent.maxLogSizeMB';
const DEFAULT_MB = 256;

export function applyLogSizeSetting(manager: BackgroundManager): vscode.Disposable {
  const apply = () => {
    const mb = vscode.workspace.getConfiguration().get<number>(SETTING, DEFAULT_MB);
    // 0 (or nonsense) keeps every byte.
    manager.setMaxLogBytes(Number.isFinite(mb) && mb > 0 ? mb * 1024 * 1024 : Infinity);
  };
  apply();
  return vscode.workspace.onDidChangeConfiguration((event) => {
    if (event.affectsConfiguration(SETTING)) apply();
  });
}

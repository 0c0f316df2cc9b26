// How many tasks run and how many have finished, recomputed only when a task starts, ends or goes away.
// The status bar, the view badge and the menus' context keys all follow this one source.
import * as vscode from 'vscode';
import type { TaskManager } from '../../core/tasks/types';

export interface TaskCountsValue {
  readonly running: number;
  readonly finished: number;
}

export class TaskCounts implements vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<TaskCountsValue>();
  readonly onDidChange = this.changeEmitter.event;
  private current: TaskCountsValue;
  private readonly subscription: { dispose(): void };

  constructor(private readonly manager: TaskManager) {
    this.current = this.compute();
    this.subscription = manager.onEvent((event) => {
      // Output events never change the counts; skipping them keeps a flood cheap.
      if (event.type !== 'output') this.update();
    });
  }

  get value(): TaskCountsValue {
    return this.current;
  }

  /** Recount now (after restoring tasks of the last window, which may not emit events). */
  update(): void {
    const next = this.compute();
    if (next.running === this.current.running && next.finished === this.current.finished) return;
    this.current = next;
    this.changeEmitter.fire(next);
  }

  private compute(): TaskCountsValue {
    let running = 0;
    let finished = 0;
    for (const task of this.manager.list()) {
      if (task.status === 'running') running++;
      else finished++;
    }
    return { running, finished };
  }

  dispose(): void {
    this.subscription.dispose();
    this.changeEmitter.dispose();
  }
}

/** Keeps the `when`-clause context keys of package.json's menus in step with the counts. */
export function bindContextKeys(counts: TaskCounts): vscode.Disposable {
  let last: TaskCountsValue | undefined;
  const apply = (value: TaskCountsValue): void => {
    if (!last || (last.running > 0) !== (value.running > 0)) {
      void vscode.commands.executeCommand('setContext', 'backgroundAgent.hasRunningTasks', value.running > 0);
    }
    if (!last || (last.finished > 0) !== (value.finished > 0)) {
      void vscode.commands.executeCommand('setContext', 'backgroundAgent.hasFinishedTasks', value.finished > 0);
    }
    last = value;
  };
  apply(counts.value);
  return counts.onDidChange(apply);
}

/** The view's badge shows the number of running tasks, like the status bar item. */
export function bindBadge(view: vscode.TreeView<unknown>, counts: TaskCounts): vscode.Disposable {
  const apply = ({ running }: TaskCountsValue): void => {
    view.badge = running > 0 ? { value: running, tooltip: runningTooltip(running) } : undefined;
  };
  apply(counts.value);
  return counts.onDidChange(apply);
}

export function runningTooltip(running: number): string {
  return running === 1 ? '1 background task running' : `${running} background tasks running`;
}

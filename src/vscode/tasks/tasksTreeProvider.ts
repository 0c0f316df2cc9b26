// The Background Tasks tree: a flat list of task ids, newest first, refreshed item by item.
// Engine events are coalesced: a task printing 50 MB/s costs a few item refreshes a second, not one per chunk,
// and elapsed times tick once a second only for running items, only while the view is visible.
import * as vscode from 'vscode';
import type { TaskEvent, TaskManager } from '../../core/tasks/types';
import { createTaskTooltip, createTaskTreeItem } from './taskTreeItem';
import type { ChatTitleLookup } from './taskText';

export interface TasksTreeTiming {
  /** Longest a change waits before the tree hears of it. */
  flushMs: number;
  /** How often running items' elapsed time is redrawn. */
  tickMs: number;
}

const DEFAULT_TIMING: TasksTreeTiming = { flushMs: 250, tickMs: 1000 };

/** Counters a benchmark or test reads to see how much work the view did. */
export interface TasksTreeStats {
  /** onDidChangeTreeData events fired. */
  changeEvents: number;
  /** Of those, whole-list refreshes (a task started or was removed). */
  rootRefreshes: number;
  /** Single items named in item refreshes, summed. */
  itemRefreshes: number;
  /** getTreeItem calls (what VS Code asked back). */
  treeItemsBuilt: number;
  /** getChildren calls for the root (VS Code re-reading the whole list). */
  listsBuilt: number;
}

/** Elements are task ids: strings are stable keys for VS Code's element map, snapshots would not be. */
export class TasksTreeProvider implements vscode.TreeDataProvider<string>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<string | string[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;

  readonly stats: TasksTreeStats = { changeEvents: 0, rootRefreshes: 0, itemRefreshes: 0, treeItemsBuilt: 0, listsBuilt: 0 };

  private readonly dirty = new Set<string>();
  private rootDirty = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private visible = true;
  private readonly subscription: { dispose(): void };
  private readonly timing: TasksTreeTiming;

  constructor(
    private readonly manager: TaskManager,
    timing: Partial<TasksTreeTiming> = {},
    private readonly now: () => number = Date.now,
    /** Names the chat that started a task in its accessible name and tooltip. */
    private readonly titleOf?: ChatTitleLookup,
  ) {
    this.timing = { ...DEFAULT_TIMING, ...timing };
    this.subscription = manager.onEvent((event) => this.onTaskEvent(event));
    this.updateTicking();
  }

  getChildren(element?: string): string[] {
    if (element) return [];
    this.stats.listsBuilt++;
    return this.manager.list().map((task) => task.id);
  }

  getParent(): undefined {
    // Flat list; needed so TreeView.reveal works.
    return undefined;
  }

  getTreeItem(id: string): vscode.TreeItem {
    this.stats.treeItemsBuilt++;
    const task = this.manager.get(id);
    if (!task) {
      // Removed between the refresh and this call; the pending root refresh drops the row.
      const gone = new vscode.TreeItem('(removed)');
      gone.id = id;
      return gone;
    }
    return createTaskTreeItem(task, this.now(), this.titleOf);
  }

  resolveTreeItem(item: vscode.TreeItem, id: string): vscode.TreeItem {
    const task = this.manager.get(id);
    if (task) item.tooltip = createTaskTooltip(task, this.manager.outputPreview(id, 4096), this.now(), this.titleOf);
    return item;
  }

  /** The view tells us when it is shown or hidden: hidden views neither tick nor refresh items. */
  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    if (visible) {
      // Whatever changed while hidden: one whole refresh is cheaper than replaying it.
      this.dirty.clear();
      this.rootDirty = true;
      this.flushSoon(0);
    }
    this.updateTicking();
  }

  /** Redraw everything now (e.g. after restoring tasks of the last window). */
  refreshAll(): void {
    this.rootDirty = true;
    this.flushSoon(0);
  }

  private onTaskEvent(event: TaskEvent): void {
    if (event.type === 'started' || event.type === 'removed') {
      // Order and membership change: only a root refresh can show that.
      this.rootDirty = true;
      this.flushSoon(this.timing.flushMs);
    } else {
      this.dirty.add(event.task.id);
      // An ending is news (a cancel must show within a second); output can wait for the next batch.
      this.flushSoon(event.type === 'ended' ? 0 : this.timing.flushMs);
    }
    if (event.type !== 'output') this.updateTicking();
  }

  private flushSoon(delayMs: number): void {
    if (!this.visible) {
      this.dirty.clear();
      return;
    }
    if (this.flushTimer) {
      if (delayMs > 0) return; // already batched
      clearTimeout(this.flushTimer);
    }
    this.flushTimer = setTimeout(() => this.flush(), delayMs);
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.rootDirty) {
      this.rootDirty = false;
      this.dirty.clear();
      this.stats.changeEvents++;
      this.stats.rootRefreshes++;
      this.changeEmitter.fire(undefined);
      return;
    }
    if (this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    this.stats.changeEvents++;
    this.stats.itemRefreshes += ids.length;
    this.changeEmitter.fire(ids.length === 1 ? ids[0] : ids);
  }

  private updateTicking(): void {
    const shouldTick = this.visible && this.manager.list().some((task) => task.status === 'running');
    if (shouldTick && !this.tickTimer) {
      this.tickTimer = setInterval(() => this.tick(), this.timing.tickMs);
    } else if (!shouldTick && this.tickTimer) {
      clearInterval(this.tickTimer);
      this.tickTimer = undefined;
    }
  }

  private tick(): void {
    for (const task of this.manager.list()) if (task.status === 'running') this.dirty.add(task.id);
    this.flushSoon(0);
  }

  dispose(): void {
    this.subscription.dispose();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.flushTimer = undefined;
    this.tickTimer = undefined;
    this.changeEmitter.dispose();
  }
}

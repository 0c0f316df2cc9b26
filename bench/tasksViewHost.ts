// Runs INSIDE the real extension host (loaded by VS Code as `extensionTestsPath`, driven by
// bench/tasksView.bench.ts). Puts 200 tasks in the Background Tasks view, then lets one task print as fast as
// it can for 10 s, first with only the tree visible, then with its output document open and following (the
// opening and the end measured apart), and measures what the extension host pays: tree refresh events per
// second, event-loop delay, memory, and how the output document was updated (updates, characters per update:
// smoothness bought by rarely updating would show there). Results go to the JSON file named by BG_AGENT_BENCH_OUT.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { BackgroundAgentApi } from '../src/extension';
import type { TaskSnapshot } from '../src/core/tasks/types';
import type { TasksTreeStats } from '../src/vscode/tasks/tasksTreeProvider';

const TASKS = 200;
const FLOOD_MS = 10_000;
const FLOOD_COMMAND = "yes 'a line of build output from the flooding task, as fast as the shell can print it'";
const MiB = 1024 * 1024;
const OPEN_MS = 1500;
const END_MS = 2000;

export interface PhaseResult {
  phase: string;
  seconds: number;
  floodMiB: number;
  floodMiBPerS: number;
  changeEventsPerS: number;
  itemRefreshesPerS: number;
  rootRefreshes: number;
  treeItemsBuiltPerS: number;
  listsBuilt: number;
  viewVisible: string;
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  rssStartMiB: number;
  rssPeakMiB: number;
  heapPeakMiB: number;
  /** The output document's updates as the extension host saw them applied (empty when none is open). */
  docUpdates: number;
  docUpdatesPerS: number;
  /** Characters added per update (mean, max) and updates that replaced most of the document. */
  docAddedCharsMean: number;
  docAddedCharsMax: number;
  docWholeReplacements: number;
  docLengthMax: number;
  /** Filled in by the driver from the workbench page. */
  rendererLongTasks?: number;
  rendererLongestTaskMs?: number;
  rendererBusyMs?: number;
  rendererLongTasksAt?: string;
}

export interface HostResult {
  tasksInView: number;
  idle: PhaseResult;
  phases: PhaseResult[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function extensionApi(): Promise<BackgroundAgentApi> {
  const ext = vscode.extensions.getExtension<BackgroundAgentApi>('background-agent.background-agent');
  if (!ext) throw new Error('extension not loaded');
  return ext.activate();
}

/** Measures one window of time: what the tree fired, how late the event loop ran, how much memory was used. */
async function measure(api: BackgroundAgentApi, phase: string, ms: number, flood?: TaskSnapshot): Promise<PhaseResult> {
  const { services: s, tasksView } = api;
  const provider = tasksView.provider;
  const before: TasksTreeStats = { ...provider.stats };
  const bytesBefore = flood ? (s.manager.get(flood.id)?.outputBytes ?? 0) : 0;
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const rssStart = process.memoryUsage().rss;
  let rssPeak = rssStart;
  let heapPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    rssPeak = Math.max(rssPeak, m.rss);
    heapPeak = Math.max(heapPeak, m.heapUsed);
  }, 100);
  const doc = { updates: 0, added: 0, addedMax: 0, whole: 0, lengthMax: 0 };
  const docEvents = vscode.workspace.onDidChangeTextDocument((e) => {
    if (e.document.uri.scheme !== 'background-task' || e.contentChanges.length === 0) return;
    const added = e.contentChanges.reduce((sum, c) => sum + c.text.length, 0);
    const removed = e.contentChanges.reduce((sum, c) => sum + c.rangeLength, 0);
    doc.updates++;
    doc.added += added;
    doc.addedMax = Math.max(doc.addedMax, added);
    const length = e.document.getText().length;
    if (removed > 0 && added > 0 && added > length / 2) doc.whole++;
    doc.lengthMax = Math.max(doc.lengthMax, length);
  });
  histogram.enable();
  // The driver matches these lines with the renderer's long tasks (console output reaches it through the page).
  console.log(`PHASE-START ${phase}`);
  const started = performance.now();
  const visibleAtStart = tasksView.view.visible;
  if (flood) await s.manager.waitForEnd(flood.id);
  else await sleep(ms);
  const seconds = (performance.now() - started) / 1000;
  console.log(`PHASE-END ${phase}`);
  histogram.disable();
  clearInterval(sampler);
  docEvents.dispose();
  const after = provider.stats;
  const floodBytes = flood ? (s.manager.get(flood.id)?.outputBytes ?? 0) - bytesBefore : 0;
  return {
    phase,
    seconds,
    floodMiB: floodBytes / MiB,
    floodMiBPerS: floodBytes / MiB / seconds,
    changeEventsPerS: (after.changeEvents - before.changeEvents) / seconds,
    itemRefreshesPerS: (after.itemRefreshes - before.itemRefreshes) / seconds,
    rootRefreshes: after.rootRefreshes - before.rootRefreshes,
    treeItemsBuiltPerS: (after.treeItemsBuilt - before.treeItemsBuilt) / seconds,
    listsBuilt: after.listsBuilt - before.listsBuilt,
    viewVisible: `${visibleAtStart} → ${tasksView.view.visible}`,
    loopDelayP50Ms: histogram.percentile(50) / 1e6,
    loopDelayP99Ms: histogram.percentile(99) / 1e6,
    loopDelayMaxMs: histogram.max / 1e6,
    rssStartMiB: rssStart / MiB,
    rssPeakMiB: rssPeak / MiB,
    heapPeakMiB: heapPeak / MiB,
    docUpdates: doc.updates,
    docUpdatesPerS: doc.updates / seconds,
    docAddedCharsMean: doc.updates ? doc.added / doc.updates : 0,
    docAddedCharsMax: doc.addedMax,
    docWholeReplacements: doc.whole,
    docLengthMax: doc.lengthMax,
  };
}

export async function run(): Promise<void> {
  const out = process.env.BG_AGENT_BENCH_OUT;
  if (!out) throw new Error('BG_AGENT_BENCH_OUT is not set');
  const api = await extensionApi();
  const s = api.services;
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!cwd) throw new Error('no workspace folder');
  try {
    // The view is shown and rendered in Chromium, as a person watching it would have it.
    await vscode.commands.executeCommand('backgroundAgent.tasks.focus');

    // 200 tasks: 190 finished ones of every kind and 9 running ones whose elapsed time ticks, plus the flood.
    const quick: TaskSnapshot[] = [];
    for (let i = 0; i < TASKS - 10; i++) {
      quick.push(s.manager.start({ command: `echo task ${i}; exit ${i % 5 === 0 ? 1 : 0}`, cwd, origin: i % 2 ? { kind: 'user' } : { kind: 'agent', conversationId: 'bench' } }));
    }
    await Promise.all(quick.map((t) => s.manager.waitForEnd(t.id)));
    for (let i = 0; i < 9; i++) s.manager.start({ command: `sleep 120 # ticking ${i}`, cwd, origin: { kind: 'user' } });
    await sleep(1500); // let the start-up refreshes settle before measuring

    const idle = await measure(api, 'idle, 199 tasks (9 running)', 3000);
    const phases: PhaseResult[] = [];

    // Baseline: the same flood with the side bar closed, so the view does no work: the engine's own cost.
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await sleep(500);
    const floodHidden = s.manager.start({ command: FLOOD_COMMAND, description: 'flood (view hidden)', cwd, timeoutMs: FLOOD_MS, origin: { kind: 'user' } });
    phases.push(await measure(api, 'baseline: one task flooding 10 s, view hidden', FLOOD_MS, floodHidden));
    s.manager.remove(floodHidden.id);
    await vscode.commands.executeCommand('backgroundAgent.tasks.focus');
    await sleep(1000);

    const floodTree = s.manager.start({ command: FLOOD_COMMAND, description: 'flood (tree only)', cwd, timeoutMs: FLOOD_MS, origin: { kind: 'user' } });
    phases.push(await measure(api, '200 tasks, one flooding 10 s, tree visible', FLOOD_MS, floodTree));
    s.manager.remove(floodTree.id);
    await sleep(1000);

    // Same again while the person watches the flooding task's output document follow it.
    const floodDoc = s.manager.start({ command: FLOOD_COMMAND, description: 'flood (output open)', cwd, timeoutMs: FLOOD_MS, origin: { kind: 'user' } });
    await sleep(300);
    // Opening an editor costs the renderer its own one-time work (the model, the editor's parts, the first
    // tokenization): measured apart, so the phase after it is the document following the flood.
    const opening = measure(api, 'opening the output document during the flood', OPEN_MS);
    await vscode.commands.executeCommand('backgroundAgent.task.showOutput', floodDoc.id);
    phases.push(await opening);
    phases.push(await measure(api, '200 tasks, one flooding 10 s, tree + output document following it', FLOOD_MS, floodDoc));
    // The end: the document is rendered once more with the final status and the last TAIL_BYTES.
    phases.push(await measure(api, 'the flood ended, its document shows the end', END_MS));
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');

    const result: HostResult = { tasksInView: s.manager.list().length, idle, phases };
    writeFileSync(out, JSON.stringify(result, null, 2));
  } finally {
    await s.manager.cancelAll();
    for (const task of s.manager.list()) s.manager.remove(task.id);
  }
}

// The model's seven tools: their definitions for the API request, and one entry point that runs any of them.
// Names and inputs are a contract (DESIGN.md): tests outside the repo call them.
import type Anthropic from '@anthropic-ai/sdk';
import { backgroundRunTool } from './backgroundRun';
import { bashTool } from './bash';
import { cancelBackgroundTool } from './cancelBackground';
import { checkBackgroundTool } from './checkBackground';
import type { Tool } from './defineTool';
import { editFileTool } from './editFile';
import { readFileTool } from './readFile';
import { errorText, fail, isPending, type ToolContext, type ToolOutcome, type ToolResult } from './types';
import { writeFileTool } from './writeFile';

export type { PendingToolResult, ToolContext, ToolOutcome, ToolResult } from './types';
export { isPending } from './types';

const tools: readonly Tool[] = [bashTool, readFileTool, writeFileTool, editFileTool, backgroundRunTool, checkBackgroundTool, cancelBackgroundTool];
const byName = new Map(tools.map((tool) => [tool.name, tool]));

export const toolDefinitions: Anthropic.Tool[] = tools.map((tool) => tool.definition);

/**
 * Starts a tool call from the model: its result, or a pending one (a wait until ready) that the agent loop
 * lets later calls run beside. Never throws, nor does a pending result reject: unknown tools, bad input
 * and failures become `isError` results.
 */
export async function startTool(name: string, input: unknown, ctx: ToolContext): Promise<ToolOutcome> {
  const tool = byName.get(name);
  if (!tool) return fail(`Unknown tool "${name}"; the available tools are ${tools.map((t) => t.name).join(', ')}.`);
  if (ctx.signal.aborted) return fail(`${name} was not run: the person stopped the turn.`);
  const failed = (error: unknown): ToolResult =>
    ctx.signal.aborted ? fail(`${name} was stopped by the person before it finished.`) : fail(`${name} failed: ${errorText(error)}.`);
  try {
    const outcome = await tool.execute(input, ctx);
    return isPending(outcome) ? { pending: outcome.pending.catch(failed) } : outcome;
  } catch (error) {
    return failed(error);
  }
}

/** Runs a tool call to its result (startTool, then its pending result if any). */
export async function executeTool(name: string, input: unknown, ctx: ToolContext): Promise<ToolResult> {
  const outcome = await startTool(name, input, ctx);
  return isPending(outcome) ? outcome.pending : outcome;
}

/** True for a call that may start while an earlier call of the same message still waits (ToolSpec.startsBesideWaits). */
export function startsBesideWaits(name: string, input: unknown): boolean {
  return byName.get(name)?.startsBesideWaits(input) ?? false;
}

/** What the conversation keeps of a call's input once it has run (large written texts shortened); undefined: all of it. */
export function inputForHistory(name: string, input: unknown): Record<string, unknown> | undefined {
  return byName.get(name)?.inputForHistory(input);
}

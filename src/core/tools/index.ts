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
import { errorText, fail, type ToolContext, type ToolResult } from './types';
import { writeFileTool } from './writeFile';

export type { ToolContext, ToolResult } from './types';

const tools: readonly Tool[] = [bashTool, readFileTool, writeFileTool, editFileTool, backgroundRunTool, checkBackgroundTool, cancelBackgroundTool];
const byName = new Map(tools.map((tool) => [tool.name, tool]));

export const toolDefinitions: Anthropic.Tool[] = tools.map((tool) => tool.definition);

/** Runs a tool call from the model. Never throws: unknown tools, bad input and failures become `isError` results. */
export async function executeTool(name: string, input: unknown, ctx: ToolContext): Promise<ToolResult> {
  const tool = byName.get(name);
  if (!tool) return fail(`Unknown tool "${name}"; the available tools are ${tools.map((t) => t.name).join(', ')}.`);
  if (ctx.signal.aborted) return fail(`${name} was not run: the person stopped the turn.`);
  try {
    return await tool.execute(input, ctx);
  } catch (error) {
    if (ctx.signal.aborted) return fail(`${name} was stopped by the person before it finished.`);
    return fail(`${name} failed: ${errorText(error)}.`);
  }
}

/** What the conversation keeps of a call's input once it has run (large written texts shortened); undefined: all of it. */
export function inputForHistory(name: string, input: unknown): Record<string, unknown> | undefined {
  return byName.get(name)?.inputForHistory(input);
}

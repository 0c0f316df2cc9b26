// The agent session with the real tools. Front ends (CLI, chat controller) call this; tests that need a
// tool the real set does not have use createAgentSessionWith directly.
import { inputForHistory, startsBesideWaits, startTool, toolDefinitions } from '../tools';
import { createAgentSessionWith, type AgentSessionDeps } from './agentSession';
import type { AgentSession, AgentSessionOptions } from './types';

export const realTools: AgentSessionDeps['tools'] = { definitions: toolDefinitions, execute: startTool, inputForHistory, startsBesideWaits };

export function createAgentSession(options: AgentSessionOptions, deps: Partial<AgentSessionDeps> = {}): AgentSession {
  return createAgentSessionWith(options, { tools: realTools, ...deps });
}

// Everything an agent test needs, real parts only: the scripted server on a real port, a real
// BackgroundManager in a temporary folder, and a session that talks to the server through the real SDK.
// `dispose()` kills every task, closes the server and removes the folder, also after a failed test.
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentSessionDeps } from '../../src/core/agent/agentSession';
import type { AgentEvent } from '../../src/core/agent/events';
import { createAgentSession } from '../../src/core/agent/session';
import type { AgentSession, AgentSessionOptions } from '../../src/core/agent/types';
import { BackgroundManager } from '../../src/core/tasks/backgroundManager';
import { autoApproval } from './approvals';
import { startScriptedServer, type ContentBlockLike, type RecordedRequest, type ScriptedServer, type ScriptedServerOptions } from './scriptedServer';

export interface AgentHarness {
  server: ScriptedServer;
  manager: BackgroundManager;
  session: AgentSession;
  events: AgentEvent[];
  workspace: string;
  /** Resolves with the first event matching `predicate` (already seen or still to come). */
  nextEvent<T extends AgentEvent['type']>(type: T, predicate?: (e: Extract<AgentEvent, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<AgentEvent, { type: T }>>;
  eventsOf<T extends AgentEvent['type']>(type: T): Array<Extract<AgentEvent, { type: T }>>;
  dispose(): Promise<void>;
}

export const CONVERSATION_ID = 'conv-test';

export async function startAgentHarness(
  options: { session?: Partial<AgentSessionOptions>; deps?: Partial<AgentSessionDeps>; server?: ScriptedServerOptions } = {},
): Promise<AgentHarness> {
  const server = await startScriptedServer(options.server);
  const root = mkdtempSync(join(tmpdir(), 'agent-test-'));
  const workspace = join(root, 'workspace');
  mkdirSync(workspace);
  const manager = new BackgroundManager({ logDir: join(root, 'logs'), killGraceMs: 500 });
  const session = createAgentSession(
    {
      conversationId: CONVERSATION_ID,
      cwd: workspace,
      manager,
      approval: autoApproval(),
      model: 'claude-test',
      maxTokens: 1024,
      apiKey: 'test-key',
      baseURL: server.url,
      ...options.session,
    },
    // Short waits so retry tests stay quick; the policy itself is the production one.
    { retry: { initialDelayMs: 5, maxDelayMs: 20 }, ...options.deps },
  );
  const events: AgentEvent[] = [];
  const waiters = new Set<(e: AgentEvent) => void>();
  session.onEvent((e) => {
    events.push(e);
    for (const w of [...waiters]) w(e);
  });

  return {
    server,
    manager,
    session,
    events,
    workspace,
    nextEvent(type, predicate = () => true, timeoutMs = 10_000) {
      type E = Extract<AgentEvent, { type: typeof type }>;
      const matches = (e: AgentEvent): e is E => e.type === type && predicate(e as E);
      const seen = events.find(matches);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(onEvent);
          reject(new Error(`no ${type} event within ${timeoutMs} ms; events: ${events.map((e) => e.type).join(', ')}`));
        }, timeoutMs);
        const onEvent = (e: AgentEvent): void => {
          if (!matches(e)) return;
          clearTimeout(timer);
          waiters.delete(onEvent);
          resolve(e);
        };
        waiters.add(onEvent);
      });
    },
    eventsOf(type) {
      return events.filter((e) => e.type === type) as never;
    },
    async dispose() {
      session.dispose();
      await manager.cancelAll();
      manager.dispose();
      await server.close();
      rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}

/** The messages of a recorded request. */
export function messagesOf(request: RecordedRequest | undefined): Array<{ role: string; content: string | ContentBlockLike[] }> {
  return request?.body?.messages ?? [];
}

export function blocksOf(message: { content: string | ContentBlockLike[] } | MessageParam | undefined): ContentBlockLike[] {
  if (!message) return [];
  const content = message.content as string | ContentBlockLike[];
  return typeof content === 'string' ? [{ type: 'text', text: content }] : content;
}

/** Is this the agent's summary call (a compaction), not a turn's call? Its last user text carries the instruction. */
export function isSummaryCall(request: RecordedRequest | undefined): boolean {
  return textOf(messagesOf(request).at(-1)).includes('<compaction-request>');
}

/** The text of every text block of a message, joined. */
export function textOf(message: { content: string | ContentBlockLike[] } | MessageParam | undefined): string {
  return blocksOf(message)
    .filter((b) => b.type === 'text')
    .map((b) => b.text ?? '')
    .join('\n');
}

// Our three background-task tools as other agents get them (VS Code's language-model tools: Copilot's agent
// mode and any chat extension call them). Same tools, same inputs, same texts; what differs is said here:
// the names (VS Code's tools share one namespace, so ours carry the extension's prefix) and the one input
// that cannot work for a caller outside our conversations. package.json declares the same names and schemas
// (VS Code reads them before we run); a unit test holds the two together.
import { toolDefinitions } from '../tools';

/** The tools lent, by their own names (DESIGN.md's contract). */
export const EXTERNAL_TOOLS = ['background_run', 'check_background', 'cancel_background'] as const;
export type ExternalToolName = (typeof EXTERNAL_TOOLS)[number];

/**
 * VS Code's tool names are global (`^(?!copilot_|vscode_)[\w-]+$`, no dots): its guide prefixes them with the
 * extension (`chat-tools-sample_tabCount`). Ours: the namespace of our commands and settings, `backgroundAgent`,
 * then the tool's own name, so a model and a person recognise the tool of DESIGN.md in it.
 */
export const EXTERNAL_NAME_PREFIX = 'backgroundAgent_';

export function externalName(name: ExternalToolName): string {
  return `${EXTERNAL_NAME_PREFIX}${name}`;
}

/**
 * Inputs another agent cannot use. `notify_on` delivers matching lines into the conversation that started
 * the task, and nothing can be pushed into another extension's conversation.
 */
const UNAVAILABLE_INPUTS: Readonly<Record<ExternalToolName, readonly string[]>> = {
  background_run: ['notify_on'],
  check_background: [],
  cancel_background: [],
};

/** The JSON schema another agent is shown: the tool's own, without the inputs it cannot use. */
export function externalInputSchema(name: ExternalToolName): Record<string, unknown> {
  const definition = toolDefinitions.find((tool) => tool.name === name);
  if (!definition) throw new Error(`No tool named ${name}.`);
  const { properties, ...rest } = definition.input_schema as { properties: Record<string, unknown> };
  const kept = Object.fromEntries(Object.entries(properties).filter(([field]) => !UNAVAILABLE_INPUTS[name].includes(field)));
  return { ...rest, properties: kept };
}

/** The sentence refusing an input another agent cannot use, or undefined when there is none. */
export function unavailableInput(name: ExternalToolName, input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const given = UNAVAILABLE_INPUTS[name].filter((field) => field in input);
  if (given.length === 0) return undefined;
  return (
    `${name}: \`${given.join('`, `')}\` is not available through VS Code's tools: nothing can be delivered into your conversation ` +
    'while a task runs. Leave it out, and read the output with check_background.'
  );
}

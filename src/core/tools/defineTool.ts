// One zod schema per tool drives both the JSON schema the model sees and the validator that checks what it
// sends back, so the two cannot drift apart. zod/mini: the same validator as `zod` at a tenth of the bundle size.
import * as z from 'zod/mini';
import type Anthropic from '@anthropic-ai/sdk';
import { KEPT_INPUT_HEAD_CHARS, MAX_KEPT_INPUT_CHARS } from './limits';
import { fail, type ToolContext, type ToolOutcome } from './types';
import { describeInvalidInput } from './validationMessage';

export interface ToolSpec<S extends z.ZodMiniObject> {
  name: string;
  description: string;
  schema: S;
  /**
   * String inputs that may be large (a whole file's content): once the call has run, the conversation keeps
   * only their start and a note, so one large write does not ride along in every later request.
   */
  largeTextFields?: readonly (keyof z.infer<S> & string)[];
  /** It may start while an earlier call of the same message still waits (PendingToolResult); given the call's input. */
  startsBesideWaits?: (input: unknown) => boolean;
  run(input: z.infer<S>, ctx: ToolContext): Promise<ToolOutcome>;
}

/** A tool with its input type erased, so that tools of different shapes can sit in one registry. */
export interface Tool {
  readonly name: string;
  readonly definition: Anthropic.Tool;
  /** See ToolSpec.startsBesideWaits. */
  startsBesideWaits(input: unknown): boolean;
  /** Validates, then runs. Bad input becomes an `isError` result naming the field. */
  execute(input: unknown, ctx: ToolContext): Promise<ToolOutcome>;
  /** The input as the conversation keeps it after the call ran, or undefined to keep it as it is. */
  inputForHistory(input: unknown): Record<string, unknown> | undefined;
}

export function defineTool<S extends z.ZodMiniObject>(spec: ToolSpec<S>): Tool {
  const fieldNames = Object.keys(spec.schema.shape);
  return {
    name: spec.name,
    definition: { name: spec.name, description: spec.description, input_schema: toInputSchema(spec.schema) },
    startsBesideWaits: (input) => spec.startsBesideWaits?.(input) ?? false,
    async execute(input, ctx) {
      const parsed = spec.schema.safeParse(input);
      if (!parsed.success) return fail(describeInvalidInput(spec.name, fieldNames, parsed.error.issues, input));
      return spec.run(parsed.data, ctx);
    },
    inputForHistory(input) {
      if (!isRecord(input) || !spec.largeTextFields) return undefined;
      let kept: Record<string, unknown> | undefined;
      for (const field of spec.largeTextFields) {
        const value = input[field];
        if (typeof value !== 'string' || value.length <= MAX_KEPT_INPUT_CHARS) continue;
        kept ??= { ...input };
        // Never half a surrogate pair: the API refuses a string that is not well-formed.
        const head = value.slice(0, /[\uD800-\uDBFF]/.test(value[KEPT_INPUT_HEAD_CHARS - 1]) ? KEPT_INPUT_HEAD_CHARS - 1 : KEPT_INPUT_HEAD_CHARS);
        const omitted = value.length - head.length;
        kept[field] = `${head}\n[… ${omitted} more characters of this ${field} are not kept in the conversation, to save room; read the file to see them.]`;
      }
      return kept;
    },
  };
}

/** Draft 2020-12 object schema as the Messages API expects it (no `$schema` key: the API does not need it). */
export function toInputSchema(schema: z.ZodMiniObject): Anthropic.Tool.InputSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete json.$schema;
  return { ...dropImplicitBounds(json), type: 'object' };
}

/** zod writes the safe-integer range into every integer (`maximum: 9007199254740991`): noise for the model. */
function dropImplicitBounds(json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (key === 'maximum' && value === Number.MAX_SAFE_INTEGER) continue;
    if (key === 'minimum' && value === Number.MIN_SAFE_INTEGER) continue;
    out[key] = isRecord(value) ? dropImplicitBounds(value) : value;
  }
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

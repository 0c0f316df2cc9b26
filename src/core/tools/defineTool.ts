// One zod schema per tool drives both the JSON schema the model sees and the validator that checks what it
// sends back, so the two cannot drift apart.
import { z } from 'zod';
import type Anthropic from '@anthropic-ai/sdk';
import { fail, type ToolContext, type ToolResult } from './types';
import { describeInvalidInput } from './validationMessage';

export interface ToolSpec<S extends z.ZodObject> {
  name: string;
  description: string;
  schema: S;
  run(input: z.infer<S>, ctx: ToolContext): Promise<ToolResult>;
}

/** A tool with its input type erased, so that tools of different shapes can sit in one registry. */
export interface Tool {
  readonly name: string;
  readonly definition: Anthropic.Tool;
  /** Validates, then runs. Bad input becomes an `isError` result naming the field. */
  execute(input: unknown, ctx: ToolContext): Promise<ToolResult>;
}

export function defineTool<S extends z.ZodObject>(spec: ToolSpec<S>): Tool {
  const fieldNames = Object.keys(spec.schema.shape);
  return {
    name: spec.name,
    definition: { name: spec.name, description: spec.description, input_schema: toInputSchema(spec.schema) },
    async execute(input, ctx) {
      const parsed = spec.schema.safeParse(input);
      if (!parsed.success) return fail(describeInvalidInput(spec.name, fieldNames, parsed.error.issues, input));
      return spec.run(parsed.data, ctx);
    },
  };
}

/** Draft 2020-12 object schema as the Messages API expects it (no `$schema` key: the API does not need it). */
export function toInputSchema(schema: z.ZodObject): Anthropic.Tool.InputSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  delete json.$schema;
  return { ...json, type: 'object' };
}

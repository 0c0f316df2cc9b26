// Turns zod issues into one sentence the model can act on: which field, what was wrong, what is expected.
import type * as z from 'zod/mini';

type Issue = z.core.$ZodIssue;

export function describeInvalidInput(tool: string, fields: readonly string[], issues: readonly Issue[], input: unknown): string {
  const accepted = fields.map((f) => `\`${f}\``).join(', ');
  const parts = issues.map((issue) => describeIssue(issue, tool, accepted, valueAt(input, issue.path)));
  return `Invalid input for ${tool}: ${unique(parts).join('; ')}.`;
}

function describeIssue(issue: Issue, tool: string, accepted: string, value: unknown): string {
  const field = issue.path.length > 0 ? `\`${issue.path.map(String).join('.')}\`` : undefined;
  switch (issue.code) {
    case 'invalid_type': {
      if (!field) return `the input must be a JSON object with the fields ${accepted}`;
      const expected = article(issue.expected);
      if (typeof value === 'number' && issue.expected === 'int') return `${field} must be an integer, not ${value}`;
      return value === undefined ? `${field} is required and must be ${expected}` : `${field} must be ${expected}, not ${typeName(value)}`;
    }
    case 'unrecognized_keys':
      return `${issue.keys.map((k) => `\`${k}\``).join(', ')} ${issue.keys.length === 1 ? 'is not a field' : 'are not fields'} of ${tool} (it accepts ${accepted})`;
    case 'too_small':
      if (issue.origin === 'string') return `${field ?? 'the value'} must not be empty`;
      return `${field ?? 'the value'} must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${String(issue.minimum)}`;
    case 'too_big':
      return `${field ?? 'the value'} must be ${issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}`;
    default:
      return field ? `${field}: ${issue.message}` : issue.message;
  }
}

/** The value the model sent at `path` (zod issues do not carry it unless asked to). */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  if (expected === 'object' || expected === 'array' || expected === 'integer') return `an ${expected}`;
  return `a ${expected}`;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const t = typeof value;
  return t === 'object' ? 'an object' : `a ${t}`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

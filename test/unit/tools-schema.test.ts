// The tool contract: exact names, JSON schemas the API accepts, and bad input answered with a clear error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { executeTool, toolDefinitions } from '../../src/core/tools';
import { createToolEnv, type ToolEnv } from '../support/toolEnv';

const expected: Record<string, { required: string[]; optional: string[] }> = {
  bash: { required: ['command'], optional: ['timeout_s'] },
  read_file: { required: ['path'], optional: ['offset', 'limit'] },
  write_file: { required: ['path', 'content'], optional: [] },
  edit_file: { required: ['path', 'old_text', 'new_text'], optional: [] },
  background_run: { required: ['command'], optional: ['description', 'cwd', 'timeout_s', 'wait_for', 'wait_for_port', 'wait_timeout_s', 'notify_on'] },
  check_background: { required: [], optional: ['task_id', 'offset'] },
  cancel_background: { required: ['task_id'], optional: [] },
};

describe('tool definitions', () => {
  it('are exactly the seven tools of DESIGN.md, with their fields', () => {
    assert.deepEqual(toolDefinitions.map((t) => t.name).sort(), Object.keys(expected).sort());
    for (const tool of toolDefinitions) {
      const want = expected[tool.name];
      const schema = tool.input_schema;
      assert.equal(schema.type, 'object', tool.name);
      assert.equal('$schema' in schema, false, `${tool.name} has no $schema key`);
      assert.equal(schema.additionalProperties, false, tool.name);
      assert.deepEqual(Object.keys(schema.properties as object).sort(), [...want.required, ...want.optional].sort(), tool.name);
      assert.deepEqual([...(schema.required ?? [])].sort(), [...want.required].sort(), tool.name);
      assert.ok(tool.description && tool.description.length > 20, `${tool.name} has a description`);
    }
  });

  it('bash timeout_s is bounded at 600 in the schema the model sees', () => {
    const bash = toolDefinitions.find((t) => t.name === 'bash');
    const props = bash?.input_schema.properties as Record<string, { maximum?: number; type?: string }>;
    assert.equal(props.timeout_s.maximum, 600);
    assert.equal(props.timeout_s.type, 'number');
  });

  it('background_run bounds its waits: a port is an integer 1-65535, the wait at most 600 s', () => {
    const run = toolDefinitions.find((t) => t.name === 'background_run');
    const props = run?.input_schema.properties as Record<string, { maximum?: number; minimum?: number; type?: string }>;
    assert.deepEqual([props.wait_for_port.type, props.wait_for_port.minimum, props.wait_for_port.maximum], ['integer', 1, 65535]);
    assert.deepEqual([props.wait_timeout_s.type, props.wait_timeout_s.maximum], ['number', 600]);
    assert.equal(props.wait_for.type, 'string');
    assert.equal(props.notify_on.type, 'string');
  });
});

describe('bad input', () => {
  let env: ToolEnv;
  before(async () => {
    env = await createToolEnv();
  });
  after(() => env.dispose());

  it('an unknown tool is an error naming the real ones', async () => {
    const result = await executeTool('rm_rf', { path: '/' }, env.ctx());
    assert.equal(result.isError, true);
    assert.match(result.content, /Unknown tool "rm_rf"/);
    assert.match(result.content, /bash, read_file/);
  });

  it('a missing field is named, with its type', async () => {
    const result = await executeTool('bash', {}, env.ctx());
    assert.deepEqual(result, { isError: true, content: 'Invalid input for bash: `command` is required and must be a string.' });
  });

  it('a mistyped field is named, with what was sent', async () => {
    const result = await executeTool('read_file', { path: 'a.txt', offset: 'ten' }, env.ctx());
    assert.equal(result.isError, true);
    assert.match(result.content, /`offset` must be a number, not a string/);
  });

  it('a non-integer line offset is refused', async () => {
    const result = await executeTool('read_file', { path: 'a.txt', offset: 1.5 }, env.ctx());
    assert.equal(result.isError, true);
    assert.match(result.content, /`offset` must be an integer/);
  });

  it('an unknown field is named, with the accepted ones', async () => {
    const result = await executeTool('cancel_background', { task_id: 'x', force: true }, env.ctx());
    assert.equal(result.isError, true);
    assert.match(result.content, /`force` is not a field of cancel_background \(it accepts `task_id`\)/);
  });

  it('input that is not an object is refused', async () => {
    for (const input of [null, 'ls', 42, ['ls']]) {
      const result = await executeTool('bash', input, env.ctx());
      assert.equal(result.isError, true);
      assert.match(result.content, /must be a JSON object with the fields `command`, `timeout_s`/);
    }
  });

  it('bash timeout_s above 600 is refused, not silently clamped', async () => {
    const result = await executeTool('bash', { command: 'true', timeout_s: 601 }, env.ctx());
    assert.equal(result.isError, true);
    assert.match(result.content, /`timeout_s` must be at most 600/);
  });

  it('an empty command is refused', async () => {
    const result = await executeTool('background_run', { command: '' }, env.ctx());
    assert.equal(result.isError, true);
    assert.match(result.content, /`command` must not be empty/);
  });

  it('several problems are reported in one sentence', async () => {
    const result = await executeTool('edit_file', { path: 3 }, env.ctx());
    assert.equal(result.isError, true);
    assert.match(result.content, /`path` must be a string, not a number; `old_text` is required and must be a string; `new_text` is required/);
    assert.equal(result.content.split('\n').length, 1);
  });
});

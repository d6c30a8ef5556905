// action.yml declares exactly the settings the code reads, with the same defaults and texts,
// and runs the committed bundle on node24.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { PLAN_SETTINGS } from '../../src/settings.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; default: string; required: boolean }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
};

test('action.yml runs the bundle on node24', () => {
  assert.deepEqual(action.runs, { using: 'node24', main: 'action/index.js' });
});

test('every setting is an input with the same default and description, and nothing else is', () => {
  const names = Object.keys(PLAN_SETTINGS);
  assert.deepEqual(Object.keys(action.inputs).sort(), [...names, 'mode', 'github-token', 'plan-ttl-hours'].sort());
  for (const [name, [, def, doc]] of Object.entries(PLAN_SETTINGS)) {
    assert.equal(action.inputs[name]!.default, def, `default of ${name}`);
    assert.equal(action.inputs[name]!.description, doc, `description of ${name}`);
    assert.equal(action.inputs[name]!.required, false);
  }
});

test('outputs are documented', () => {
  for (const [name, o] of Object.entries(action.outputs)) assert.ok(o.description.length > 10, name);
  assert.deepEqual(Object.keys(action.outputs), ['plan-id', 'state', 'nodes-pending', 'plan-file', 'report-file', 'issue-number']);
});

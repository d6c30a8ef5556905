// action.yml declares exactly the settings the code reads, with the same defaults and texts,
// and runs the committed bundle on node24.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { EXECUTE_SETTINGS, PLAN_SETTINGS } from '../../src/settings.ts';
import { GITHUB_SETTINGS } from '../../src/github/settings.ts';
import { AZURE_SETTINGS } from '../../src/azure/settings.ts';

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
  const all: Record<string, readonly [unknown, string, string]> = {
    ...GITHUB_SETTINGS,
    ...PLAN_SETTINGS,
    ...EXECUTE_SETTINGS,
    ...AZURE_SETTINGS,
  };
  assert.equal(
    Object.keys(all).length,
    Object.keys(GITHUB_SETTINGS).length +
      Object.keys(PLAN_SETTINGS).length +
      Object.keys(EXECUTE_SETTINGS).length +
      Object.keys(AZURE_SETTINGS).length,
    'one name for one thing: no setting in two groups',
  );
  assert.deepEqual(Object.keys(action.inputs).sort(), Object.keys(all).sort());
  for (const [name, [, def, doc]] of Object.entries(all)) {
    // In a workflow the token defaults to the job's token; the CLI has none.
    assert.equal(
      action.inputs[name]!.default,
      name === 'github-token' ? '${{ github.token }}' : def,
      `default of ${name}`,
    );
    assert.equal(action.inputs[name]!.description, doc, `description of ${name}`);
    assert.equal(action.inputs[name]!.required, false);
  }
});

test('outputs are documented', () => {
  for (const [name, o] of Object.entries(action.outputs)) assert.ok(o.description.length > 10, name);
  assert.deepEqual(Object.keys(action.outputs), [
    'plan-id',
    'state',
    'nodes-pending',
    'nodes-rebooted',
    'nodes-reimaged',
    'nodes-failed',
    'plan-file',
    'report-file',
    'issue-number',
    'pr-number',
  ]);
});

// tools/metrics.ts measures what the table says, on a small tree written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerOf, measure, renderTable, untestedModules } from '../../tools/metrics.ts';

test('layers: the most specific prefix decides; entry points sit on top', () => {
  assert.ok(layerOf('errors.ts') < layerOf('settings.ts'));
  assert.ok(layerOf('settings.ts') < layerOf('kube/client.ts'));
  assert.ok(layerOf('kube/selector.ts') < layerOf('kube/client.ts'), 'selectors are vocabulary');
  assert.ok(layerOf('plan/types.ts') < layerOf('detect/kured.ts'));
  assert.ok(layerOf('plan/build.ts') < layerOf('execute/executor.ts'));
  assert.ok(layerOf('github/session.ts') < layerOf('main.ts'));
  assert.equal(layerOf('nowhere/x.ts'), -1);
  // estimate/ is the plan's arithmetic, its options an adapter for the report; ledger/ serves github/.
  assert.equal(layerOf('estimate/estimate.ts'), layerOf('plan/build.ts'));
  assert.ok(layerOf('estimate/options.ts') > layerOf('gates/window.ts'));
  assert.ok(layerOf('ledger/store.ts') > layerOf('kube/client.ts'));
  assert.ok(layerOf('ledger/record.ts') < layerOf('github/session.ts'));
  assert.equal(layerOf('states.ts'), layerOf('errors.ts'));
});

test('every module of src/ is in a layer', () => {
  assert.deepEqual(measure('src', 110).unlayered, []);
});

test('modules imported by no test: static, re-exported and dynamic imports count, a harness does not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-metrics-'));
  try {
    for (const folder of ['src/report', 'test/unit', 'test/harness'])
      mkdirSync(join(dir, folder), { recursive: true });
    for (const name of ['a.ts', 'b.ts', 'c.ts', 'report/d.ts', 'report/e.ts', 'report/f.ts'])
      writeFileSync(join(dir, 'src', name), 'export const x = 1;\n');
    writeFileSync(
      join(dir, 'test', 'unit', 'a.test.ts'),
      [
        "import { x } from '../../src/a.ts';",
        "import type { y } from '../../src/report/d.ts';",
        "export { z } from '../../src/report/e.ts';",
        "const later = await import('../../src/b.ts');",
        "// '../../src/c.ts' in a comment is no import",
        '',
      ].join('\n'),
    );
    // A harness file is no test, even when named like one of the modules.
    writeFileSync(join(dir, 'test', 'harness', 'c.ts'), "import '../../src/c.ts';\n");
    const expected = { modules: ['c.ts', 'report/f.ts'], testFiles: 1 };
    assert.deepEqual(untestedModules(join(dir, 'src'), join(dir, 'test')), expected);
    const m = measure(join(dir, 'src'), 110);
    assert.deepEqual(m.untested, expected);
    assert.match(renderTable(m), /\| Modules imported by no test \| 2 of 6: c\.ts, report\/f\.ts \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a small tree: long lines, one-letter parameters, the largest function, upward imports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-metrics-'));
  try {
    mkdirSync(join(dir, 'plan'));
    mkdirSync(join(dir, 'execute'));
    writeFileSync(join(dir, 'execute', 'progress.ts'), 'export const ANN = 1;\n');
    const body = Array.from({ length: 70 }, (_, i) => `  const v${i} = ${i};`).join('\n');
    writeFileSync(
      join(dir, 'plan', 'preflight.ts'),
      [
        "import { ANN } from '../execute/progress.ts';",
        '',
        `export function big(a: number, b: number, count: number, _unused: number): number {\n${body}\n  return a + b + count + ANN;\n}`,
        `export const sum = (values: number[]) => values.reduce((x, y) => x + y, 0); // ${'x'.repeat(120)}`,
        '',
      ].join('\n'),
    );
    const m = measure(dir, 110);
    assert.equal(m.files, 2);
    assert.deepEqual(m.upwardImports, [{ from: 'plan/preflight.ts', to: 'execute/progress.ts' }]);
    assert.equal(m.lines.over120, 1);
    assert.equal(m.lines.overPrintWidth, 1);
    // a, b, count, values, x, y: `_unused` is not counted; x and y belong to a callback.
    assert.equal(m.parameters.total, 6);
    assert.equal(m.parameters.oneLetter, 4);
    assert.deepEqual(m.parameters.named, { total: 4, oneLetter: 2 });
    assert.deepEqual(m.parameters.oneLetterInNamed, [
      { file: 'plan/preflight.ts', line: 3, function: 'big', parameter: 'a' },
      { file: 'plan/preflight.ts', line: 3, function: 'big', parameter: 'b' },
    ]);
    const largest = m.functions.largest[0];
    assert.ok(largest);
    assert.equal(largest.name, 'big');
    assert.equal(largest.lines, 73);
    assert.deepEqual(m.functions.mostParameters[0], largest);
    assert.equal(m.functions.over60Lines.length, 1);
    assert.match(renderTable(m), /\| Upward imports \| 1: plan\/preflight\.ts → execute\/progress\.ts \|/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

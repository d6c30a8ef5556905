// tools/metrics.ts measures what the table says, on a small tree written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerOf, measure, renderTable } from '../../tools/metrics.ts';

test('layers: the most specific prefix decides; entry points sit on top', () => {
  assert.ok(layerOf('errors.ts') < layerOf('settings.ts'));
  assert.ok(layerOf('settings.ts') < layerOf('kube/client.ts'));
  assert.ok(layerOf('kube/selector.ts') < layerOf('kube/client.ts'), 'selectors are vocabulary');
  assert.ok(layerOf('plan/types.ts') < layerOf('detect/kured.ts'));
  assert.ok(layerOf('plan/build.ts') < layerOf('execute/executor.ts'));
  assert.ok(layerOf('github/session.ts') < layerOf('main.ts'));
  assert.equal(layerOf('nowhere/x.ts'), -1);
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

// A newcomer's first `npm ci`, with the npm on PATH (on the project machines Debian's, running on
// Node 20): no wall of EBADENGINE warnings. npm checks engines against the Node that runs npm, but
// everything here runs on the Node 24 that `npm ci` installs; src/bin.ts checks the version at run
// time. A dry run in a copy of the manifest and lockfile, offline: nothing is fetched or written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('npm ci prints no EBADENGINE warnings, whatever Node runs npm', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rp-npm-ci-'));
  try {
    for (const f of ['package.json', 'package-lock.json', '.npmrc']) {
      if (existsSync(join(root, f))) copyFileSync(join(root, f), join(dir, f));
    }
    // A fresh shell's npm: without node_modules/.bin on PATH, and without the npm_* variables
    // that an enclosing `npm test` passes down.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    env.PATH = (process.env.PATH ?? '')
      .split(':')
      .filter((p) => !p.includes('node_modules'))
      .join(':');
    const npmNode = spawnSync('node', ['--version'], { encoding: 'utf8', env }).stdout.trim();
    const r = spawnSync(
      'npm',
      [
        'ci',
        '--dry-run',
        '--ignore-scripts',
        '--offline',
        '--no-audit',
        '--no-fund',
        '--cache',
        join(dir, 'cache'),
      ],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 120_000,
        env,
      },
    );
    const output = r.stdout + r.stderr;
    assert.equal(r.status, 0, r.stderr);
    const warnings = output.split('\n').filter((line) => /EBADENGINE|npm warn/.test(line));
    assert.deepEqual(warnings, [], `npm on Node ${npmNode}`);
    assert.match(output, /added \d+ packages/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the Node 24 requirement stays written down: engines, the node package, .node-version', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    engines: { node: string };
    devDependencies: { node: string };
  };
  assert.equal(pkg.engines.node, '>=24');
  assert.match(pkg.devDependencies.node, /^24\./);
  assert.equal(readFileSync(join(root, '.node-version'), 'utf8').trim(), pkg.devDependencies.node);
});

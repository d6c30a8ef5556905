// The reboot-pilot executable's help, as a newcomer meets it: the committed bundle that
// package.json's "bin" names, started on Node 24 like `npx reboot-pilot`. No cluster is needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(
  root,
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin[
    'reboot-pilot'
  ]!,
);

function reboot(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const args of [
  ['run', '--help'],
  ['run', '-h'],
  ['run', '--plan', 'missing.json', '--help'],
]) {
  test(`reboot-pilot ${args.join(' ')} prints run's usage and exits 0`, () => {
    const r = reboot(...args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^usage: reboot-pilot run --plan plan\.json/);
    assert.match(r.stdout, /0 completed, 1 failed or stale, 2 bad usage or settings, 3 paused by a gate/);
    assert.match(r.stdout, /--drain-timeout/, 'execution settings are listed');
    assert.match(r.stdout, /--probe-timeout/, 'plan settings are listed');
  });
}

for (const args of [
  ['plan', '--help'],
  ['plan', '--kubeconfig', '/nonexistent', '-h'],
]) {
  test(`reboot-pilot ${args.join(' ')} prints plan's usage and exits 0, without touching a cluster`, () => {
    const r = reboot(...args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^usage: reboot-pilot plan /);
    assert.match(r.stdout, /Exit codes: 0 plan printed, 1 failure, 2 bad usage or settings\./);
    assert.match(r.stdout, /--probe-timeout/);
    assert.doesNotMatch(r.stdout, /--drain-timeout/, "execution settings are run's, not plan's");
  });
}

test('reboot-pilot without a command prints the usage, exit codes included, and exits 2', () => {
  const r = reboot();
  assert.equal(r.code, 2);
  assert.match(r.stdout, /reboot-pilot plan --help, reboot-pilot run --help/);
  assert.match(
    r.stdout,
    /Exit codes: 0 done, 1 failure \(run: failed or stale\), 2 bad usage or settings,\n3 run paused by a gate/,
  );
});

test('an unknown option is still bad usage (exit 2), not help', () => {
  const r = reboot('run', '--plan', 'x.json', '--no-such-setting', '1');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Unknown option '--no-such-setting'/);
  assert.equal(r.stdout, '');
});

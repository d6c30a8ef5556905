// The probe script on real file trees, under dash and under busybox (the default probe image is
// busybox-based), with the same environment the probe pod gives it.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PROBE_SCRIPT, parseProbeResult, parseHistoryItem } from '../../src/detect/probe-script.ts';
import { BOOT_TIME, procFiles, ubuntu2204, ubuntu2404, azureLinux3, ubuntuUpToDate, halfWrittenPkgs, type HostFiles } from '../fixtures/hosts.ts';

const BOOT_ID = '6c1d3a9e-1f4b-4d55-9a55-0f3c9b2e7d11';

function tree(files: HostFiles): string {
  const root = mkdtempSync(join(tmpdir(), 'rp-host-'));
  for (const [p, content] of Object.entries({ ...files, ...procFiles(BOOT_ID) })) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), Buffer.from(content, 'latin1'));
  }
  return root;
}

// A PATH whose sh, awk, sed, tr, ls, date, stat, cat, wc come from busybox, as in the image.
function busyboxPath(): string | undefined {
  const which = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
  if (!which) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'rp-busybox-'));
  for (const applet of ['sh', 'awk', 'sed', 'tr', 'ls', 'date', 'stat', 'cat', 'wc', 'test', 'printf', 'dirname']) symlinkSync(which, join(dir, applet));
  return dir;
}

const shells: { name: string; sh: string; path: string }[] = [{ name: 'dash', sh: '/bin/sh', path: process.env.PATH ?? '' }];
const bb = busyboxPath();
if (bb) shells.push({ name: 'busybox', sh: join(bb, 'sh'), path: bb });
else if (process.env.CI) throw new Error('busybox is required in CI to test the probe as the default image runs it');

function probe(shell: (typeof shells)[number], root: string, env: Record<string, string> = {}) {
  const out = join(root, 'termination-log');
  const r = spawnSync(shell.sh, ['-c', PROBE_SCRIPT], {
    env: { PATH: shell.path, HOST_ROOT: root, PROC_ROOT: join(root, 'proc'), RESULT_FILE: out, SENTINEL: '/var/run/reboot-required', SENTINEL_COMMAND: '', LIMIT: '4000', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, `probe exited ${r.status}: ${r.stderr}`);
  const message = spawnSync('cat', [out], { encoding: 'utf8' }).stdout;
  assert.ok(Buffer.byteLength(message) <= 4000, `result is ${Buffer.byteLength(message)} bytes, over the termination-message budget`);
  return parseProbeResult(message);
}

for (const shell of shells) {
  describe(`probe script under ${shell.name}`, () => {
    test('Ubuntu 22.04 with a pending kernel: sentinel, packages, kernels, dpkg history since boot', () => {
      const root = tree(ubuntu2204);
      utimesSync(join(root, 'var/run/reboot-required'), BOOT_TIME + 6600, BOOT_TIME + 6600);
      const r = probe(shell, root);
      assert.equal(r.bootId, BOOT_ID);
      assert.equal(r.btime, BOOT_TIME);
      assert.deepEqual(r.os, { id: 'ubuntu', version: '22.04' });
      assert.deepEqual(r.sentinel, { present: true, mtime: BOOT_TIME + 6600, via: 'file', path: '/var/run/reboot-required' });
      assert.deepEqual(r.pkgs, { total: 2, items: ['linux-image-5.15.0-1081-azure', 'linux-base'] });
      assert.deepEqual(r.kernels.items.sort(), ['5.15.0-1079-azure', '5.15.0-1081-azure']);
      assert.equal(r.history.source, 'dpkg');
      // The tzdata upgrade happened before this boot and is left out.
      assert.deepEqual(r.history.items, [
        'install linux-image-5.15.0-1081-azure:amd64 <none> 5.15.0-1081.90'.replace(/[<>]/g, ''),
        'upgrade openssl:amd64 3.0.2-0ubuntu1.17 3.0.2-0ubuntu1.18',
        'upgrade libssl3:amd64 3.0.2-0ubuntu1.17 3.0.2-0ubuntu1.18',
      ]);
      rmSync(root, { recursive: true });
    });

    test('Ubuntu 24.04 with only apt history: Install and Upgrade lines since boot, vmlinuz symlinks ignored', () => {
      const root = tree(ubuntu2404);
      const r = probe(shell, root);
      assert.deepEqual(r.os, { id: 'ubuntu', version: '24.04' });
      assert.equal(r.sentinel.present, true);
      assert.deepEqual(r.pkgs.items, ['linux-image-6.8.0-1021-azure', 'linux-base', 'libc6']);
      assert.deepEqual(r.kernels.items.sort(), ['6.8.0-1017-azure', '6.8.0-1021-azure']);
      assert.equal(r.history.source, 'apt');
      assert.deepEqual(r.history.items, [
        'install linux-image-6.8.0-1021-azure:amd64 - 6.8.0-1021.25',
        'upgrade libc6:amd64 2.39-0ubuntu8.3 2.39-0ubuntu8.4',
        'upgrade libc-bin:amd64 2.39-0ubuntu8.3 2.39-0ubuntu8.4',
      ]);
      assert.deepEqual(parseHistoryItem(r.history.items[1]!), { action: 'upgrade', name: 'libc6', from: '2.39-0ubuntu8.3', to: '2.39-0ubuntu8.4' });
      assert.deepEqual(parseHistoryItem(r.history.items[0]!), { action: 'install', name: 'linux-image-6.8.0-1021-azure', to: '6.8.0-1021.25' });
      rmSync(root, { recursive: true });
    });

    test('Azure Linux 3: no sentinel, a newer kernel under /boot, dnf history since boot', () => {
      const root = tree(azureLinux3);
      const r = probe(shell, root);
      assert.deepEqual(r.os, { id: 'azurelinux', version: '3.0' });
      assert.equal(r.sentinel.present, false);
      assert.equal(r.pkgs.total, 0);
      assert.deepEqual(r.kernels.items.sort(), ['6.6.64.2-9.azl3', '6.6.78.1-1.azl3']);
      assert.equal(r.history.source, 'dnf');
      assert.deepEqual(r.history.items, ['install kernel-6.6.78.1-1.azl3.x86_64 - -', 'upgrade openssl-3.3.3-1.azl3.x86_64 - -', 'upgrade openssl-3.3.2-1.azl3.x86_64 - -']);
      rmSync(root, { recursive: true });
    });

    test('a node with no sentinel and nothing pending', () => {
      const root = tree(ubuntuUpToDate);
      const r = probe(shell, root);
      assert.equal(r.sentinel.present, false);
      assert.deepEqual(r.kernels.items, ['5.15.0-1079-azure']);
      assert.deepEqual(r.history, { source: 'dpkg', total: 0, items: [] });
      rmSync(root, { recursive: true });
    });

    test('a half-written .pkgs file with garbage and shell metacharacters stays data', () => {
      const root = tree(halfWrittenPkgs);
      const canary = join(root, 'executed');
      const r = probe(shell, root, { CANARY: canary });
      // Only package-name characters survive: quotes, $(), backticks and bytes are dropped.
      assert.deepEqual(r.pkgs.items, ['linux-image-5.15.0-1081-azure', 'linux-bax:rebootid', 'libssl3']);
      assert.equal(spawnSync('test', ['-e', canary]).status, 1);
      rmSync(root, { recursive: true });
    });

    test('a sentinel command decides instead of the file, and sees the node files under $HOST_ROOT', () => {
      const root = tree(ubuntuUpToDate);
      assert.equal(probe(shell, root, { SENTINEL_COMMAND: 'test -f "$HOST_ROOT/var/run/reboot-needed"' }).sentinel.present, false);
      mkdirSync(join(root, 'var/run'), { recursive: true });
      writeFileSync(join(root, 'var/run/reboot-needed'), '');
      const r = probe(shell, root, { SENTINEL_COMMAND: 'test -f "$HOST_ROOT/var/run/reboot-needed"' });
      assert.deepEqual({ present: r.sentinel.present, via: r.sentinel.via }, { present: true, via: 'command' });
      rmSync(root, { recursive: true });
    });

    test('thousands of upgrades since boot: lists shortened to fit 4000 bytes, totals kept', () => {
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++) lines.push(`2025-11-21 07:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:00 upgrade package-with-a-long-name-${i}:amd64 1.0.${i}-0ubuntu1 1.0.${i}-0ubuntu2`);
      const pkgs = Array.from({ length: 300 }, (_, i) => `lib-requiring-reboot-${i}`).join('\n');
      const root = tree({ ...ubuntu2204, 'var/log/dpkg.log': lines.join('\n') + '\n', 'var/run/reboot-required.pkgs': pkgs });
      const r = probe(shell, root);
      assert.equal(r.history.total, 3000);
      assert.equal(r.pkgs.total, 300);
      assert.ok(r.history.items.length > 0 && r.history.items.length < 40, `${r.history.items.length} items kept`);
      assert.equal(r.history.items[0], 'upgrade package-with-a-long-name-0:amd64 1.0.0-0ubuntu1 1.0.0-0ubuntu2');
      rmSync(root, { recursive: true });
    });
  });
}

// The probe script on real file trees, under dash and under busybox (the default probe image is
// busybox-based), with the same environment the probe pod gives it; the changelog part on the
// contents of real Debian packages (fetched with apt-get into a cache outside the repository).
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, symlinkSync, utimesSync, cpSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PROBE_SCRIPT, parseProbeResult, parseHistoryItem } from '../../src/detect/probe-script.ts';
import {
  realPackages,
  changelogPath,
  changelogOracle,
  compareDebianVersions,
  type RealPackages,
} from '../harness/debs.ts';
import {
  BOOT_TIME,
  procFiles,
  ubuntu2204,
  ubuntu2404,
  azureLinux3,
  ubuntuUpToDate,
  halfWrittenPkgs,
  type HostFiles,
} from '../fixtures/hosts.ts';

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
  for (const applet of [
    'sh',
    'awk',
    'sed',
    'tr',
    'ls',
    'date',
    'stat',
    'cat',
    'wc',
    'test',
    'printf',
    'dirname',
    'zcat',
    'sort',
  ])
    symlinkSync(which, join(dir, applet));
  return dir;
}

const shells: { name: string; sh: string; path: string }[] = [
  { name: 'dash', sh: '/bin/sh', path: process.env.PATH ?? '' },
];
const bb = busyboxPath();
if (bb) shells.push({ name: 'busybox', sh: join(bb, 'sh'), path: bb });
else if (process.env.CI)
  throw new Error('busybox is required in CI to test the probe as the default image runs it');

function probe(shell: (typeof shells)[number], root: string, env: Record<string, string> = {}) {
  const out = join(root, 'termination-log');
  const r = spawnSync(shell.sh, ['-c', PROBE_SCRIPT], {
    env: {
      PATH: shell.path,
      HOST_ROOT: root,
      PROC_ROOT: join(root, 'proc'),
      RESULT_FILE: out,
      SENTINEL: '/var/run/reboot-required',
      SENTINEL_COMMAND: '',
      LIMIT: '4000',
      ...env,
    },
    encoding: 'utf8',
    timeout: 20_000,
  });
  assert.equal(r.status, 0, `probe exited ${r.status}: ${r.stderr}`);
  const message = spawnSync('cat', [out], { encoding: 'utf8' }).stdout;
  assert.ok(
    Buffer.byteLength(message) <= 4000,
    `result is ${Buffer.byteLength(message)} bytes, over the termination-message budget`,
  );
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
      assert.deepEqual(r.sentinel, {
        present: true,
        mtime: BOOT_TIME + 6600,
        via: 'file',
        path: '/var/run/reboot-required',
      });
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
      assert.deepEqual(parseHistoryItem(r.history.items[1]!), {
        action: 'upgrade',
        name: 'libc6',
        from: '2.39-0ubuntu8.3',
        to: '2.39-0ubuntu8.4',
      });
      assert.deepEqual(parseHistoryItem(r.history.items[0]!), {
        action: 'install',
        name: 'linux-image-6.8.0-1021-azure',
        to: '6.8.0-1021.25',
      });
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
      assert.deepEqual(r.history.items, [
        'install kernel-6.6.78.1-1.azl3.x86_64 - -',
        'upgrade openssl-3.3.3-1.azl3.x86_64 - -',
        'upgrade openssl-3.3.2-1.azl3.x86_64 - -',
      ]);
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
      assert.equal(
        probe(shell, root, { SENTINEL_COMMAND: 'test -f "$HOST_ROOT/var/run/reboot-needed"' }).sentinel
          .present,
        false,
      );
      mkdirSync(join(root, 'var/run'), { recursive: true });
      writeFileSync(join(root, 'var/run/reboot-needed'), '');
      const r = probe(shell, root, { SENTINEL_COMMAND: 'test -f "$HOST_ROOT/var/run/reboot-needed"' });
      assert.deepEqual(
        { present: r.sentinel.present, via: r.sentinel.via },
        { present: true, via: 'command' },
      );
      rmSync(root, { recursive: true });
    });

    test('thousands of upgrades since boot: lists shortened to fit 4000 bytes, totals kept', () => {
      const lines: string[] = [];
      for (let i = 0; i < 3000; i++)
        lines.push(
          `2025-11-21 07:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:00 upgrade package-with-a-long-name-${i}:amd64 1.0.${i}-0ubuntu1 1.0.${i}-0ubuntu2`,
        );
      const pkgs = Array.from({ length: 300 }, (_, i) => `lib-requiring-reboot-${i}`).join('\n');
      const root = tree({
        ...ubuntu2204,
        'var/log/dpkg.log': lines.join('\n') + '\n',
        'var/run/reboot-required.pkgs': pkgs,
      });
      const r = probe(shell, root);
      assert.equal(r.history.total, 3000);
      assert.equal(r.pkgs.total, 300);
      assert.ok(
        r.history.items.length > 0 && r.history.items.length < 40,
        `${r.history.items.length} items kept`,
      );
      assert.equal(
        r.history.items[0],
        'upgrade package-with-a-long-name-0:amd64 1.0.0-0ubuntu1 1.0.0-0ubuntu2',
      );
      rmSync(root, { recursive: true });
    });
  });
}

// What a reboot buys, on real packages: the probe's CVE IDs, urgency and entry counts against
// the changelog entries themselves (read by an oracle that compares versions with dpkg).
let real: RealPackages;
before(() => {
  real = realPackages();
});

function realTree(files: HostFiles, docs: RealPackages[keyof RealPackages][]): string {
  const root = tree(files);
  for (const d of docs) {
    const to = join(root, 'usr/share/doc', d.name);
    mkdirSync(to, { recursive: true });
    cpSync(dirname(changelogPath(d)), to, { recursive: true, dereference: true });
  }
  return root;
}

for (const shell of shells) {
  describe(`probe changelogs under ${shell.name}`, () => {
    test('real kernel and libc6 packages: CVEs and urgency of the entries newer than the running versions', async () => {
      const { debianNodeFiles } = await import('../harness/debs.ts');
      const root = realTree(debianNodeFiles(real), [real.kernelOld, real.kernelNew, real.libcNew]);
      const r = probe(shell, root);
      const kernel = changelogOracle(changelogPath(real.kernelNew), real.kernelOld.version);
      const libc = changelogOracle(changelogPath(real.libcNew), real.libcOld.version);
      assert.ok(
        kernel.entries >= 1 && libc.entries >= 1,
        `the archive's versions differ: ${kernel.entries} kernel, ${libc.entries} libc6 entries`,
      );
      const fixes = r.fixes!;
      const [k, l] = fixes.pkgs.items;
      assert.deepEqual(k, {
        p: real.kernelNew.name,
        doc: true,
        entries: kernel.entries,
        urgency: kernel.urgency,
        // The running kernel's own package says which version runs (its changelog's top entry).
        from: changelogOracle(changelogPath(real.kernelOld), undefined).to,
        to: kernel.to,
        cves: kernel.cves.length,
      });
      assert.deepEqual(l, {
        p: 'libc6',
        doc: true,
        entries: libc.entries,
        urgency: libc.urgency,
        from: real.libcOld.version,
        to: libc.to,
        cves: libc.cves.length,
      });
      const union = new Set([...kernel.cves, ...libc.cves]);
      assert.equal(fixes.cves.total, union.size);
      // Newest first, every one a real ID from those entries; cut to fit, the total kept.
      const sorted = [...union].sort(
        (a, b) => Number(b.slice(0, 4)) - Number(a.slice(0, 4)) || Number(b.slice(5)) - Number(a.slice(5)),
      );
      assert.deepEqual(fixes.cves.items, sorted.slice(0, fixes.cves.items.length));
      assert.ok(fixes.cves.items.length > 0);
      // Over 300 IDs cannot fit in 4000 bytes with everything else: the list must be cut.
      if (union.size > 300) assert.ok(fixes.cves.items.length < union.size, 'a long list is cut');
      assert.ok(union.size > 300, `${union.size} CVEs: the kernels are too close to exercise the cut`);
      rmSync(root, { recursive: true });
    });

    test('a package without a changelog says so; no packages named, nothing to read', () => {
      const root = realTree({ ...ubuntu2204, 'var/run/reboot-required.pkgs': 'linux-base\nlibc6\n' }, [
        real.libcNew,
      ]);
      const r = probe(shell, root);
      assert.deepEqual(r.fixes!.pkgs, {
        total: 2,
        items: [
          { p: 'linux-base', doc: false },
          { ...r.fixes!.pkgs.items[1]!, p: 'libc6', doc: true },
        ],
      });
      // No upgrade of libc6 since boot in this tree: only the newest entry counts.
      const newest = changelogOracle(changelogPath(real.libcNew), undefined);
      assert.deepEqual(r.fixes!.pkgs.items[1], {
        p: 'libc6',
        doc: true,
        entries: 1,
        urgency: newest.urgency,
        from: '-',
        to: newest.to,
        cves: newest.cves.length,
      });
      const azl = probe(shell, tree(azureLinux3));
      assert.deepEqual(azl.fixes, { cves: { total: 0, items: [] }, pkgs: { total: 0, items: [] } });
      rmSync(root, { recursive: true });
    });

    test("versions compared in dpkg's order (epochs, tildes, revisions, +b rebuilds)", () => {
      const pairs = [
        ['1.0', '1.0~rc1'],
        ['1.0~rc1', '1.0'],
        ['1:0.9', '1.0'],
        ['1.0-1', '1.0'],
        ['1.0-1.1', '1.0-1'],
        ['1.0+b1', '1.0'],
        ['6.1.170-3', '6.1.170+3'],
        ['6.1.176+1', '6.1.170+3'],
        ['2.36-9+deb12u10', '2.36-9+deb12u9'],
        ['1.0a', '1.0'],
        ['1.0', '1.0a'],
        ['1.01', '1.1'],
        ['1.0-0ubuntu1.18', '1.0-0ubuntu1.2'],
        ['0:1.0', '1.0'],
        ['1.0~~', '1.0~'],
        ['1.0.A', '1.0.a'],
      ];
      for (const [a, b] of pairs) {
        const doc = gzipSync(
          `pkgx (${a}) stable; urgency=low\n\n  * Fix CVE-2025-0001.\n\n -- A <a@b>  Mon, 01 Jan 2025 00:00:00 +0000\n`,
        );
        const root = tree({
          ...ubuntu2204,
          'var/run/reboot-required.pkgs': 'pkgx\n',
          'var/log/dpkg.log': `2025-11-21 06:25:13 upgrade pkgx:amd64 ${b} ${a}\n`,
        });
        mkdirSync(join(root, 'usr/share/doc/pkgx'), { recursive: true });
        writeFileSync(join(root, 'usr/share/doc/pkgx/changelog.Debian.gz'), doc);
        const got = probe(shell, root).fixes!.pkgs.items[0] as { entries: number };
        assert.equal(got.entries, compareDebianVersions(a!, b!) > 0 ? 1 : 0, `${a} newer than ${b}?`);
        rmSync(root, { recursive: true });
      }
    });
  });
}

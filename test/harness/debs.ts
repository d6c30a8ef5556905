// Real Debian package contents for the probe's changelog tests: `apt-get download` of the two
// newest linux-image-*-cloud-amd64 kernels and the newest and oldest libc6 the archive offers,
// unpacked with `dpkg-deb -x` into ~/.cache/reboot-pilot/debs/<package>_<version>/ (outside the
// repository; fetched once per machine, so CI does it on a fresh one). The versions are read from
// apt at set-up time, and the tests' expectations from the changelogs themselves (see
// changelogOracle), so a newer archive changes the data, not the tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const DEBS_CACHE = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'reboot-pilot',
  'debs',
);

export interface UnpackedDeb {
  name: string;
  version: string;
  /** Directory the .deb was unpacked into (its usr/share/doc/<name>/ holds the changelog). */
  root: string;
}

function apt(args: string[]): string {
  const r = spawnSync('apt-cache', args, { encoding: 'utf8' });
  if (r.error)
    throw new Error(
      `the changelog tests need apt-cache (Debian or Ubuntu) to fetch real packages: ${r.error.message}`,
    );
  return r.stdout;
}

function versionsOf(name: string): string[] {
  // "libc6 | 2.36-9+deb12u14 | http://deb.debian.org/debian bookworm/main amd64 Packages"
  const seen = apt(['madison', name])
    .split('\n')
    .map((l) => l.split('|').map((f) => f.trim()));
  return [...new Set(seen.filter((f) => f[0] === name && f[1]).map((f) => f[1]!))].sort(
    compareDebianVersions,
  );
}

/** dpkg's own order (dpkg --compare-versions), for sorting and as the tests' oracle. */
export function compareDebianVersions(a: string, b: string): number {
  if (spawnSync('dpkg', ['--compare-versions', a, 'eq', b]).status === 0) return 0;
  return spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status === 0 ? -1 : 1;
}

function ensureLists(): void {
  if (versionsOf('libc6').length) return;
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
}

function unpack(name: string, version: string): UnpackedDeb {
  const root = join(DEBS_CACHE, `${name}_${version}`.replace(/[^A-Za-z0-9.+~_-]/g, '_'));
  if (existsSync(join(root, 'usr'))) return { name, version, root };
  mkdirSync(DEBS_CACHE, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'rp-deb-'));
  try {
    execFileSync('apt-get', ['download', '-qq', `${name}=${version}`], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${name}=${version} left no .deb`);
    const out = join(work, 'root');
    execFileSync('dpkg-deb', ['-x', join(work, deb), out]);
    rmSync(root, { recursive: true, force: true });
    renameSync(out, root);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { name, version, root };
}

export interface RealPackages {
  /** The oldest and the newest cloud kernel apt offers (different ABIs: separate packages, as on nodes). */
  kernelOld: UnpackedDeb & { release: string };
  kernelNew: UnpackedDeb & { release: string };
  libcOld: UnpackedDeb;
  libcNew: UnpackedDeb;
}

/** Fetches (once) and unpacks the real packages; throws with the cause when it cannot. */
export function realPackages(): RealPackages {
  ensureLists();
  const names = apt(['search', '--names-only', '^linux-image-[0-9.]+-[0-9]+-cloud-amd64$'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => /^linux-image-[0-9.]+-[0-9]+-cloud-amd64$/.test(n));
  const releases = names
    .map((n) => n.slice('linux-image-'.length))
    .sort((a, b) => compareDebianVersions(a, b));
  if (releases.length < 2)
    throw new Error(`apt offers ${releases.length} linux-image-*-cloud-amd64 kernel(s); the test needs two`);
  const kernel = (release: string) => {
    const name = `linux-image-${release}`;
    const version = versionsOf(name).at(-1);
    if (!version) throw new Error(`apt-cache madison ${name} gives no version`);
    return { ...unpack(name, version), release };
  };
  const libc = versionsOf('libc6');
  if (libc.length < 2)
    throw new Error(
      `apt offers ${libc.length} libc6 version(s); the test needs two (is the security suite in sources.list?)`,
    );
  return {
    kernelOld: kernel(releases[0]!),
    kernelNew: kernel(releases.at(-1)!),
    libcOld: unpack('libc6', libc[0]!),
    libcNew: unpack('libc6', libc.at(-1)!),
  };
}

/** The package's Debian changelog, as the probe looks for it. */
export function changelogPath(d: UnpackedDeb): string {
  const dir = join(d.root, 'usr', 'share', 'doc', d.name);
  for (const f of ['changelog.Debian.gz', 'changelog.gz']) if (existsSync(join(dir, f))) return join(dir, f);
  throw new Error(`${d.name} ${d.version} has no Debian changelog under ${dir}`);
}

export interface ChangelogFacts {
  entries: number;
  urgency: string;
  to: string;
  cves: string[];
}

const URGENCY = ['low', 'medium', 'high', 'emergency', 'critical'];

/**
 * The oracle, written independently of the probe's awk: the entries of a changelog newer than
 * `base` by dpkg's comparison (only the newest entry when base is unknown), with their CVE IDs.
 */
export function changelogOracle(file: string, base: string | undefined): ChangelogFacts {
  const text = gunzipSync(readFileSync(file)).toString('latin1');
  const header = /^(\S+) \(([^)]+)\)[^\n]*;[^\n]*urgency=([A-Za-z]+)/gm;
  const heads = [...text.matchAll(header)];
  const facts: ChangelogFacts = { entries: 0, urgency: '', to: '', cves: [] };
  const ids = new Set<string>();
  for (const [i, h] of heads.entries()) {
    const version = h[2]!;
    if (base !== undefined ? compareDebianVersions(version, base) <= 0 : i >= 1) break;
    facts.entries++;
    if (i === 0) facts.to = version;
    const u = h[3]!.toLowerCase();
    if (URGENCY.indexOf(u) > URGENCY.indexOf(facts.urgency)) facts.urgency = u;
    const body = text.slice(h.index + h[0].length, heads[i + 1]?.index ?? text.length);
    for (const m of body.matchAll(/CVE-(\d{4}-\d{4,})/g)) ids.add(m[1]!);
  }
  facts.cves = [...ids];
  return facts;
}

/** Copies each package's /usr/share/doc/<name>/ into a host file tree, as dpkg installed it. */
export function installDocs(hostRoot: string, debs: UnpackedDeb[]): void {
  for (const d of debs) {
    const to = join(hostRoot, 'usr', 'share', 'doc', d.name);
    mkdirSync(to, { recursive: true });
    cpSync(join(d.root, 'usr', 'share', 'doc', d.name), to, { recursive: true, dereference: true });
  }
}

/**
 * The text files of a Debian 12 node running the older kernel with libc6 upgraded and the newer
 * kernel installed since boot (what unattended-upgrades leaves), for the given real packages.
 */
export function debianNodeFiles(p: RealPackages): Record<string, string> {
  return {
    'etc/os-release':
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n',
    [`boot/vmlinuz-${p.kernelOld.release}`]: 'kernel',
    [`boot/vmlinuz-${p.kernelNew.release}`]: 'kernel',
    'proc/sys/kernel/osrelease': `${p.kernelOld.release}\n`,
    'var/run/reboot-required': '*** System restart required ***\n',
    'var/run/reboot-required.pkgs': `${p.kernelNew.name}\nlibc6\n`,
    'var/log/dpkg.log': [
      `2025-11-21 06:25:11 install ${p.kernelNew.name}:amd64 <none> ${p.kernelNew.version}`,
      `2025-11-21 06:25:13 upgrade libc6:amd64 ${p.libcOld.version} ${p.libcNew.version}`,
      '',
    ].join('\n'),
  };
}

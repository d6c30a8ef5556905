// Bundles the action and the CLI with esbuild into action/ (action.yml runs action/index.js,
// package.json "bin" runs action/cli.js; shared code sits in action/chunks/). `--check` rebuilds
// in memory and fails when the committed files differ, so a stale bundle never ships.
import { build } from 'esbuild';
import { readFile, writeFile, mkdir, readdir, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'action');
const check = process.argv.includes('--check');

const result = await build({
  entryPoints: { index: join(root, 'src/index.ts'), cli: join(root, 'src/bin.ts') },
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  write: false,
  minify: true,
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  absWorkingDir: root,
  // Some CommonJS dependencies call require() on Node built-ins; an ESM bundle needs a real one.
  banner: {
    js: "import { createRequire as __rpCreateRequire } from 'node:module';const require = __rpCreateRequire(import.meta.url);",
  },
});

const want = new Map<string, string>();
for (const f of result.outputFiles) {
  const rel = relative(outdir, f.path);
  want.set(rel, rel === 'cli.js' ? `#!/usr/bin/env node\n${f.text}` : f.text);
}

async function committed(): Promise<string[]> {
  const entries = await readdir(outdir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => relative(outdir, join(e.parentPath, e.name)));
}

if (check) {
  const stale: string[] = [];
  for (const [rel, text] of want)
    if ((await readFile(join(outdir, rel), 'utf8').catch(() => '')) !== text) stale.push(rel);
  for (const rel of await committed())
    if (!want.has(rel)) stale.push(`${rel} (not produced by the source any more)`);
  if (stale.length) {
    console.error(
      `action/ does not match src/: ${stale.join(', ')}. Run \`npm run bundle\` and commit the result.`,
    );
    process.exit(1);
  }
  console.log('bundle matches source');
} else {
  await rm(outdir, { recursive: true, force: true });
  for (const [rel, text] of want) {
    await mkdir(dirname(join(outdir, rel)), { recursive: true });
    await writeFile(join(outdir, rel), text, { mode: rel === 'cli.js' ? 0o755 : 0o644 });
    console.log(`action/${rel}: ${(text.length / 1024).toFixed(0)} KiB`);
  }
}

// Bundles the action and the CLI with esbuild into action/, the files action.yml and
// package.json "bin" run. `--check` rebuilds in memory and fails when the committed files differ,
// so a stale bundle can never ship.
import { build } from 'esbuild';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

// Some CommonJS dependencies call require() on Node built-ins; an ESM bundle needs a real require.
const banner = [
  "import { createRequire as __rpCreateRequire } from 'node:module';",
  'const require = __rpCreateRequire(import.meta.url);',
].join('\n');

const entries = [
  { in: 'src/index.ts', out: 'action/index.js' },
  { in: 'src/cli.ts', out: 'action/cli.js', shebang: true },
];

let stale = 0;
for (const e of entries) {
  const result = await build({
    entryPoints: [join(root, e.in)],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    write: false,
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: (e.shebang ? '#!/usr/bin/env node\n' : '') + banner },
    absWorkingDir: root,
  });
  const text = result.outputFiles[0]!.text;
  const target = join(root, e.out);
  if (check) {
    const committed = await readFile(target, 'utf8').catch(() => '');
    if (committed !== text) {
      console.error(`${e.out} does not match ${e.in}: run \`npm run bundle\` and commit the result`);
      stale++;
    }
  } else {
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, text, { mode: e.shebang ? 0o755 : 0o644 });
    console.log(`${e.out}: ${(text.length / 1024).toFixed(0)} KiB`);
  }
}
if (stale) process.exit(1);
if (check) console.log('bundle matches source');

// Renders Mermaid text with the real `mermaid` package in headless Chromium (Debian's chromium
// package; no browser download): mermaid.parse, then mermaid.render, in a page loaded from a
// file; the result (SVG, or the error mermaid gives) is read back from the page's DOM.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type MermaidResult = { ok: true; svg: string } | { ok: false; error: string };

const require = createRequire(import.meta.url);

export function renderMermaid(text: string): MermaidResult {
  const chromium = spawnSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).stdout.trim();
  if (!chromium)
    throw new Error('rendering Mermaid needs chromium (apt-get install chromium); .ci/run installs it');
  const script = require.resolve('mermaid/dist/mermaid.min.js');
  const dir = mkdtempSync(join(tmpdir(), 'rp-mermaid-'));
  try {
    const page = join(dir, 'page.html');
    writeFileSync(
      page,
      `<!doctype html><html><body><pre id="out">pending</pre>
<script src="file://${script}"></script>
<script>
const text = ${JSON.stringify(text).replace(/</g, '\\u003c')};
const out = document.getElementById('out');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
mermaid.parse(text)
  .then(() => mermaid.render('chart', text))
  .then((r) => { out.textContent = 'OK ' + btoa(unescape(encodeURIComponent(r.svg))); })
  .catch((e) => { out.textContent = 'ERR ' + btoa(unescape(encodeURIComponent(String(e && e.message || e)))); });
</script></body></html>`,
    );
    const r = spawnSync(
      chromium,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'profile')}`,
        '--allow-file-access-from-files',
        '--virtual-time-budget=30000',
        '--dump-dom',
        `file://${page}`,
      ],
      { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20 },
    );
    const m = /<pre id="out">(OK|ERR) ([A-Za-z0-9+/=]*)<\/pre>/.exec(r.stdout);
    if (!m) throw new Error(`chromium did not finish the render (exit ${r.status}): ${r.stderr.slice(-500)}`);
    const body = Buffer.from(m[2]!, 'base64').toString('utf8');
    return m[1] === 'OK' ? { ok: true, svg: body } : { ok: false, error: body };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

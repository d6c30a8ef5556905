// reboot-pilot CLI: the same code path as the action, for operators and tests.
//   reboot-pilot plan [--kubeconfig F] [--context C] [--output md|json|text] [settings...]
import { parseArgs } from 'node:util';
import { loadKubeConfig, makeClients, UserError } from './kube/client.ts';
import { PLAN_SETTINGS, parsePlanSettings } from './settings.ts';
import { inspectCluster } from './plan/inspect.ts';
import { canonicalJson } from './plan/canonical.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderTerminal } from './report/terminal.ts';

const USAGE = `usage: reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]

Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
Settings (same names as the action's inputs):
${Object.entries(PLAN_SETTINGS)
  .map(([k, [, def, doc]]) => `  --${k.padEnd(24)} ${doc}${def ? ` (default: ${def})` : ''}`)
  .join('\n')}
  --output                   text (default), md (GitHub Markdown) or json ({ planId, plan })
`;

/** Exit codes: 0 ok, 1 failure, 2 bad usage or settings. */
export async function cli(argv: string[], io = { out: process.stdout, err: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out.write(USAGE);
    return command ? 0 : 2;
  }
  if (command !== 'plan') {
    io.err.write(`reboot-pilot: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  let values: Record<string, string | undefined>;
  try {
    const options = Object.fromEntries([...Object.keys(PLAN_SETTINGS), 'output'].map((k) => [k, { type: 'string' as const }]));
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values as Record<string, string | undefined>;
  } catch (e) {
    io.err.write(`reboot-pilot: ${(e as Error).message}\n`);
    return 2;
  }
  const output = values.output ?? 'text';
  if (!['text', 'md', 'json'].includes(output)) {
    io.err.write(`reboot-pilot: --output must be text, md or json, not "${output}"\n`);
    return 2;
  }
  try {
    const settings = parsePlanSettings(values);
    const kc = loadKubeConfig({ kubeconfig: settings.kubeconfig || undefined, context: settings.context || undefined });
    const clients = makeClients(kc);
    const { plan, id } = await inspectCluster(clients, settings, (l) => io.err.write(`reboot-pilot: ${l}\n`));
    const now = new Date();
    if (output === 'json') io.out.write(JSON.stringify({ planId: id, plan: JSON.parse(canonicalJson(plan)) }, null, 2) + '\n');
    else if (output === 'md') io.out.write(renderMarkdown(plan, id, { now }));
    else io.out.write(renderTerminal(plan, id, now));
    return 0;
  } catch (e) {
    if (e instanceof UserError) {
      io.err.write(`reboot-pilot: error: ${e.message}\n`);
      return e.message.startsWith('invalid settings') ? 2 : 1;
    }
    io.err.write(`reboot-pilot: failed: ${(e as Error).stack ?? String(e)}\n`);
    return 1;
  }
}

// Run when executed directly (the bundle's bin), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (/(?:^|[/\\])(cli\.(?:ts|js)|reboot-pilot)$/.test(invoked)) {
  const code = await cli(process.argv.slice(2));
  // Exit once stdout is flushed: keep-alive sockets must not hold the process open.
  process.stdout.write('', () => process.exit(code));
}

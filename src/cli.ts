// reboot-pilot CLI: the same code path as the action, for operators and tests.
//   reboot-pilot plan [--kubeconfig F] [--context C] [--output md|json|text] [settings...]
//   reboot-pilot run --plan plan.json [--kubeconfig F] [--context C] [--output text|json] [settings...]
//   reboot-pilot plan --help | run --help    that command's usage and settings (exit 0)
import { readFileSync } from 'node:fs';
import { getIDToken } from '@actions/core';
import { parseArgs } from 'node:util';
import { connect } from './kube/client.ts';
import { UserError } from './errors.ts';
import { EXECUTE_SETTINGS, PLAN_SETTINGS, parseExecuteSettings, parsePlanSettings } from './settings.ts';
import { readPlanFile, runPlan } from './execute/run.ts';
import { renderResultText } from './report/result.ts';
import { inspectCluster } from './plan/inspect.ts';
import { canonicalJson } from './plan/canonical.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderTerminal } from './report/terminal.ts';
import { AZURE_SETTINGS, parseAzureSettings } from './azure/settings.ts';
import { openAzure, azureKubeClients, azurePlanFacts, azureExtras } from './azure/wire.ts';

const flags = (spec: Record<string, readonly [unknown, string, string]>) =>
  Object.entries(spec)
    .map(([k, [, def, doc]]) => `  --${k.padEnd(24)} ${doc}${def ? ` (default: ${def})` : ''}`)
    .join('\n');

const PLAN_USAGE = `usage: reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json]
                         [--SETTING VALUE ...]
  Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  Exit codes: 0 plan printed, 1 failure, 2 bad usage or settings.

Plan settings (the same names as the action's inputs):
${flags(PLAN_SETTINGS)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${flags(AZURE_SETTINGS)}
`;

const RUN_USAGE = `usage: reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                        [--SETTING VALUE ...]
  Executes a plan (as printed by plan --output json): one node at a time, resumable.
  Exit codes: 0 completed, 1 failed or stale, 2 bad usage or settings, 3 paused by a gate
  (run the same plan again later: finished nodes are skipped).

Plan settings (the same names as the action's inputs):
${flags(PLAN_SETTINGS)}

Execution settings:
${flags(EXECUTE_SETTINGS)}

Azure / AKS settings (the client secret comes from AZURE_CLIENT_SECRET):
${flags(AZURE_SETTINGS)}
`;

const USAGE = `usage:
  reboot-pilot plan [--kubeconfig FILE] [--context NAME] [--output text|md|json] [--SETTING VALUE ...]
      Inspects a cluster and prints a reboot plan (nothing is changed; probe pods are removed).
  reboot-pilot run --plan plan.json [--kubeconfig FILE] [--context NAME] [--output text|json]
                   [--SETTING VALUE ...]
      Executes a plan (as printed by plan --output json): one node at a time, resumable.
  reboot-pilot plan --help, reboot-pilot run --help
      A command's settings.

Exit codes: 0 done, 1 failure (run: failed or stale), 2 bad usage or settings,
3 run paused by a gate (run the same plan again later).
`;

const HELP = ['--help', '-h'];

/** Progress lines on stderr, timed, so waits show how long they took. */
const progress = (err: NodeJS.WritableStream) => (line: string) =>
  err.write(`reboot-pilot ${new Date().toISOString().slice(11, 19)} ${line}\n`);

/** Exit codes: 0 ok, 1 failure, 2 bad usage or settings, 3 (run) paused by a gate. */
export async function cli(
  argv: string[],
  io = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out.write(USAGE);
    return command ? 0 : 2;
  }
  if (command !== 'plan' && command !== 'run') {
    io.err.write(`reboot-pilot: unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  // Help wins over everything else on the line, as in most CLIs: `run --plan x --help` helps.
  if (rest.some((arg) => HELP.includes(arg))) {
    io.out.write(command === 'run' ? RUN_USAGE : PLAN_USAGE);
    return 0;
  }
  let values: Record<string, string | undefined>;
  try {
    const names = [
      ...Object.keys(PLAN_SETTINGS),
      ...Object.keys(AZURE_SETTINGS),
      'output',
      ...(command === 'run' ? [...Object.keys(EXECUTE_SETTINGS), 'plan'] : []),
    ];
    const options = Object.fromEntries(names.map((k) => [k, { type: 'string' as const }]));
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    io.err.write(`reboot-pilot: ${(e as Error).message}\n`);
    return 2;
  }
  const output = values.output ?? 'text';
  if (!(command === 'run' ? ['text', 'json'] : ['text', 'md', 'json']).includes(output)) {
    io.err.write(
      `reboot-pilot: --output must be ${command === 'run' ? 'text or json' : 'text, md or json'}, not "${output}"\n`,
    );
    return 2;
  }
  if (command === 'run') return run(values, output, io);
  try {
    const settings = parsePlanSettings(values);
    const log = progress(io.err);
    const az = openAzure(parseAzureSettings(values), { log, getIDToken });
    const clients = (await azureKubeClients(az, settings, log)) ?? connect(settings);
    const { plan, id } = await inspectCluster(clients, settings, log, await azurePlanFacts(az, log));
    const now = new Date();
    if (output === 'json') {
      const canonical = JSON.parse(canonicalJson(plan)) as unknown;
      io.out.write(JSON.stringify({ planId: id, plan: canonical }, null, 2) + '\n');
    } else if (output === 'md') io.out.write(renderMarkdown(plan, id, { now }));
    else io.out.write(renderTerminal(plan, id, now));
    return 0;
  } catch (e) {
    return failed(e, io.err);
  }
}

/** Reports a failure; the exit code: 2 for bad settings, 1 otherwise. */
function failed(e: unknown, err: NodeJS.WritableStream): number {
  if (e instanceof UserError) {
    err.write(`reboot-pilot: error: ${e.message}\n`);
    return e.message.startsWith('invalid settings') ? 2 : 1;
  }
  err.write(`reboot-pilot: failed: ${(e as Error).stack ?? String(e)}\n`);
  return 1;
}

async function run(
  values: Record<string, string | undefined>,
  output: string,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream },
): Promise<number> {
  if (!values.plan) {
    io.err.write('reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)\n');
    return 2;
  }
  try {
    const plan = parsePlanSettings(values);
    const execute = parseExecuteSettings(values);
    let text: string;
    try {
      text = readFileSync(values.plan, 'utf8');
    } catch (e) {
      throw new UserError(
        `cannot read the plan file ${values.plan}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
    const pf = readPlanFile(text, values.plan);
    const log = progress(io.err);
    const az = openAzure(parseAzureSettings(values), {
      needed: execute.rebootMethod === 'azure-vmss',
      log,
      getIDToken,
    });
    const clients = (await azureKubeClients(az, plan, log)) ?? connect(plan);
    const result = await runPlan(clients, pf, {
      plan,
      execute,
      log,
      ...(await azureExtras(az, execute, clients, log)),
    });
    io.out.write(output === 'json' ? JSON.stringify(result, null, 2) + '\n' : renderResultText(result));
    return result.state === 'completed' ? 0 : result.state === 'paused' ? 3 : 1;
  } catch (e) {
    return failed(e, io.err);
  }
}

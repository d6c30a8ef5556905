// reboot-pilot CLI: the same code path as the action, for operators and tests.
//   reboot-pilot plan [--kubeconfig F] [--context C] [--output md|json|text] [settings...]
//   reboot-pilot run --plan plan.json [--kubeconfig F] [--context C] [--output text|json] [settings...]
//   reboot-pilot plan --help | run --help    that command's usage and settings (exit 0)
import { getIDToken } from '@actions/core';
import { parseArgs } from 'node:util';
import { connect } from './kube/client.ts';
import { UserError } from './errors.ts';
import { EXECUTE_SETTINGS, PLAN_SETTINGS, parseExecuteSettings, parsePlanSettings } from './settings.ts';
import { runPlan } from './execute/run.ts';
import type { ExecutionResult } from './execute/types.ts';
import { renderResultText } from './report/result.ts';
import { inspectCluster } from './plan/inspect.ts';
import type { Plan } from './plan/types.ts';
import { loadPlanFile, planFileText } from './plan/file.ts';
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

type Command = 'plan' | 'run';
type Values = Record<string, string | undefined>;
interface Io {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

/** The --output formats of each command, and how its error message lists them. */
const OUTPUTS: Record<Command, { formats: string[]; named: string }> = {
  plan: { formats: ['text', 'md', 'json'], named: 'text, md or json' },
  run: { formats: ['text', 'json'], named: 'text or json' },
};

/** Progress lines on stderr, timed, so waits show how long they took. */
const progress = (err: NodeJS.WritableStream) => (line: string) =>
  err.write(`reboot-pilot ${new Date().toISOString().slice(11, 19)} ${line}\n`);

/** Exit codes: 0 ok, 1 failure, 2 bad usage or settings, 3 (run) paused by a gate. */
export async function cli(
  argv: string[],
  io: Io = { out: process.stdout, err: process.stderr },
): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || HELP.includes(command) || command === 'help') {
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
  const flags = parseFlags(command, rest, io.err);
  if (!flags) return 2;
  return command === 'run' ? run(flags.values, flags.output, io) : plan(flags.values, flags.output, io);
}

/** The command's flags and its --output format, or undefined after saying what is wrong. */
function parseFlags(
  command: Command,
  args: string[],
  err: NodeJS.WritableStream,
): { values: Values; output: string } | undefined {
  let values: Values;
  try {
    const names = [
      ...Object.keys(PLAN_SETTINGS),
      ...Object.keys(AZURE_SETTINGS),
      'output',
      ...(command === 'run' ? [...Object.keys(EXECUTE_SETTINGS), 'plan'] : []),
    ];
    const options = Object.fromEntries(names.map((name) => [name, { type: 'string' as const }]));
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    err.write(`reboot-pilot: ${(error as Error).message}\n`);
    return undefined;
  }
  const output = values.output ?? 'text';
  if (!OUTPUTS[command].formats.includes(output)) {
    err.write(`reboot-pilot: --output must be ${OUTPUTS[command].named}, not "${output}"\n`);
    return undefined;
  }
  return { values, output };
}

/** Reports a failure; the exit code: 2 for bad settings, 1 otherwise. */
function failed(error: unknown, err: NodeJS.WritableStream): number {
  if (error instanceof UserError) {
    err.write(`reboot-pilot: error: ${error.message}\n`);
    return error.message.startsWith('invalid settings') ? 2 : 1;
  }
  err.write(`reboot-pilot: failed: ${(error as Error).stack ?? String(error)}\n`);
  return 1;
}

/** `plan`: inspects the cluster and prints the plan. */
async function plan(values: Values, output: string, io: Io): Promise<number> {
  try {
    const settings = parsePlanSettings(values);
    const log = progress(io.err);
    const azure = openAzure(parseAzureSettings(values), { log, getIDToken });
    const clients = (await azureKubeClients(azure, settings, log)) ?? connect(settings);
    const aks = await azurePlanFacts(azure, log);
    const { plan, planId } = await inspectCluster(clients, settings, log, aks);
    io.out.write(renderPlan(plan, planId, output));
    return 0;
  } catch (error) {
    return failed(error, io.err);
  }
}

/** The plan as --output asks: the plan file (json), Markdown (md) or the terminal view (text). */
function renderPlan(plan: Plan, planId: string, output: string): string {
  const now = new Date();
  if (output === 'json') return planFileText(plan, planId);
  if (output === 'md') return renderMarkdown(plan, planId, { now });
  return renderTerminal(plan, planId, now);
}

/** `run`: executes a plan file. */
async function run(values: Values, output: string, io: Io): Promise<number> {
  if (!values.plan) {
    io.err.write('reboot-pilot: run needs --plan FILE (the JSON that plan --output json prints)\n');
    return 2;
  }
  try {
    const plan = parsePlanSettings(values);
    const execute = parseExecuteSettings(values);
    const planFile = loadPlanFile(values.plan);
    const log = progress(io.err);
    const needed = execute.rebootMethod === 'azure-vmss';
    const azure = openAzure(parseAzureSettings(values), { needed, log, getIDToken });
    const clients = (await azureKubeClients(azure, plan, log)) ?? connect(plan);
    const extras = await azureExtras(azure, execute, clients, log);
    const result = await runPlan(clients, planFile, { plan, execute, log, ...extras });
    io.out.write(output === 'json' ? JSON.stringify(result, null, 2) + '\n' : renderResultText(result));
    return exitCode(result.state);
  } catch (error) {
    return failed(error, io.err);
  }
}

/** run's exit code: 0 completed, 3 paused by a gate (run it again later), 1 otherwise. */
function exitCode(state: ExecutionResult['state']): number {
  if (state === 'completed') return 0;
  if (state === 'paused') return 3;
  return 1;
}

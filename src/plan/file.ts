// The plan file, plan.json: `{ planId, plan }` with the plan in canonical form, so that its ID can
// be checked against its content. This module writes it (the action's artifact, the ledger's copy,
// `plan --output json`) and reads it back (`run --plan`, an execution from the ledger); a file
// whose content does not hash to the ID it names is refused.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { Plan, PLAN_VERSION } from './types.ts';
import * as canonical from './canonical.ts';

export interface PlanFile {
  planId: string;
  plan: Plan;
}

/** The text of plan.json: the ID and the plan in canonical form, two-space indented. */
export function planFileText(plan: Plan, planId: string): string {
  const canonicalPlan = JSON.parse(canonical.canonicalJson(plan)) as unknown;
  return JSON.stringify({ planId, plan: canonicalPlan }, null, 2) + '\n';
}

/** Parses plan.json ({ planId, plan }) and refuses a file whose ID does not match its content. */
export function readPlanFile(text: string, source = 'the plan file'): PlanFile {
  let raw: { planId?: unknown; plan?: unknown };
  try {
    raw = JSON.parse(text) as typeof raw;
  } catch {
    throw new UserError(`${source} is not JSON`);
  }
  const version = (raw.plan as { version?: unknown } | undefined)?.version;
  if (typeof version === 'number' && version !== PLAN_VERSION)
    throw new UserError(
      `${source} holds a plan in format ${version}, made by another version of Reboot Pilot; ` +
        `this one reads format ${PLAN_VERSION}: make the plan again (/replan)`,
    );
  const parsed = Plan.safeParse(raw.plan);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new UserError(`${source} does not hold a Reboot Pilot plan: ${issues.join('; ')}`);
  }
  const planId = canonical.planId(parsed.data);
  if (raw.planId !== planId)
    throw new UserError(
      `${source} was changed after it was made: its content hashes to ${canonical.shortId(planId)}, ` +
        `not the plan ID ${canonical.shortId(String(raw.planId))} it names`,
    );
  return { planId, plan: parsed.data };
}

/** Reads plan.json from disk (`run --plan FILE`); a file that cannot be read is the operator's to fix. */
export function loadPlanFile(path: string): PlanFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UserError(`cannot read the plan file ${path}: ${code}`);
  }
  return readPlanFile(text, path);
}

/**
 * Writes one plan's files (plan.json, report.md, result.md...) to their directory under `outDir`,
 * named by the plan's short ID (the action's artifact). Returns each file's path by its name.
 */
export function writePlanFiles(
  outDir: string,
  planId: string,
  files: Record<string, string>,
): Record<string, string> {
  const directory = join(outDir, canonical.shortId(planId));
  mkdirSync(directory, { recursive: true });
  const paths: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    paths[name] = join(directory, name);
    writeFileSync(paths[name], text);
  }
  return paths;
}

// A real GitHub Actions expression engine for tests: nektos/act's expression evaluator (the one act
// runs workflows with, on rhysd/actionlint's parser), driven by a tiny Go program built from the Go
// module proxy into ~/.cache/reboot-pilot/act-expr/<version>/ on first use (outside the repository,
// so CI on a new machine builds it the same way). Used to test the workflows' `if:` filters. Also
// rhysd/actionlint, the workflow linter (syntax, expressions, contexts, `needs` outputs), built the
// same way.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const ACT_VERSION = 'v0.2.89';
/** Bump when MAIN_GO changes, so a machine with an older build rebuilds. */
const PROGRAM_VERSION = 3;

const MAIN_GO = `// Evaluates GitHub Actions expressions with nektos/act's evaluator.
// Input (stdin): a JSON array of
// {"expr", "github": {"event_name", "event", "run_id"}, "matrix", "needs"}; output: a JSON array of
// {"value", "truthy", "error"}. Status functions are not supported: no case needs them.
package main

import (
	"encoding/json"
	"os"

	"github.com/nektos/act/pkg/exprparser"
	"github.com/nektos/act/pkg/model"
)

type input struct {
	Expr   string                 \`json:"expr"\`
	Github model.GithubContext    \`json:"github"\`
	Matrix map[string]interface{} \`json:"matrix"\`
	Needs  map[string]exprparser.Needs \`json:"needs"\`
}

type output struct {
	Value  interface{} \`json:"value"\`
	Truthy bool        \`json:"truthy"\`
	Error  string      \`json:"error,omitempty"\`
}

func main() {
	var cases []input
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := make([]output, 0, len(cases))
	for i := range cases {
		c := &cases[i]
		env := &exprparser.EvaluationEnvironment{Github: &c.Github, Matrix: c.Matrix, Needs: c.Needs}
		interpreter := exprparser.NewInterpeter(env, exprparser.Config{})
		v, err := interpreter.Evaluate(c.Expr, exprparser.DefaultStatusCheckNone)
		o := output{Value: v, Truthy: exprparser.IsTruthy(v)}
		if err != nil {
			o.Error = err.Error()
		}
		out = append(out, o)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
`;

/** Builds the evaluator once per machine (minutes when the Go caches are cold) and returns its path. */
export function buildEvaluator(log: (line: string) => void = () => {}): string {
  const dir = join(homedir(), '.cache', 'reboot-pilot', 'act-expr', `${ACT_VERSION}-${PROGRAM_VERSION}`);
  const binary = join(dir, 'act-expr');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.go'), MAIN_GO);
  const go = (...args: string[]) =>
    execFileSync('go', args, {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    });
  log(`building nektos/act ${ACT_VERSION}'s expression evaluator into ${dir}`);
  if (!existsSync(join(dir, 'go.mod'))) go('mod', 'init', 'reboot-pilot/act-expr');
  go('get', `github.com/nektos/act@${ACT_VERSION}`);
  go('build', '-o', `${binary}.tmp`, '.');
  renameSync(`${binary}.tmp`, binary); // whole or absent: a killed build leaves no half binary
  return binary;
}

export const ACTIONLINT_VERSION = 'v1.7.12';

/** Builds actionlint once per machine (`go install` into the cache) and returns its path. */
export function buildActionlint(log: (line: string) => void = () => {}): string {
  const dir = join(homedir(), '.cache', 'reboot-pilot', 'actionlint', ACTIONLINT_VERSION);
  const binary = join(dir, 'actionlint');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  log(`building rhysd/actionlint ${ACTIONLINT_VERSION} into ${dir}`);
  // go install writes the binary whole (it links to a temporary file and renames it).
  execFileSync('go', ['install', `github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}`], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GOBIN: dir },
  });
  return binary;
}

export interface ExpressionCase {
  expr: string;
  eventName: string;
  event: Record<string, unknown>;
  matrix?: Record<string, unknown>;
  needs?: Record<string, { outputs: Record<string, string>; result: string }>;
}
export interface ExpressionResult {
  value: unknown;
  truthy: boolean;
  error?: string;
}

/** Evaluates every case in one process. */
export function evaluate(binary: string, cases: ExpressionCase[]): ExpressionResult[] {
  const input = JSON.stringify(
    cases.map((c) => ({
      expr: c.expr,
      github: { event_name: c.eventName, event: c.event, run_id: '7' },
      matrix: c.matrix ?? {},
      needs: c.needs ?? {},
    })),
  );
  return JSON.parse(execFileSync(binary, [], { input, encoding: 'utf8' })) as ExpressionResult[];
}

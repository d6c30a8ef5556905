// Reading-density figures for the source tree, the table of issue 13: long lines, characters per
// line, one-letter parameter names, the largest function, the most parameters, upward imports,
// and the modules no test imports (a newcomer finds a module's behaviour from its test).
// Anyone can rerun it to see whether a change made the code easier or harder to read:
//   node tools/metrics.ts [DIR]          (DIR defaults to src; a Markdown table on stdout)
//   node tools/metrics.ts [DIR] --json   (the same figures, with every finding listed)
// Tests are the *.test.ts and *.vmtest.ts files under the `test` folder beside DIR.
// Functions are found with the TypeScript parser, so a line break inside a signature or an
// import changes nothing.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative, dirname, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The layers of src/, lowest first (README's code map). A module may import its own layer and
 * lower ones; an import of a higher layer is "upward". The most specific prefix decides.
 * Shared vocabulary (plan data, selectors, settings) sits at the bottom; entry points at the top.
 */
export const LAYERS: readonly (readonly string[])[] = [
  // vocabulary: data types and pure parsers that every area shares
  [
    'errors.ts',
    'states.ts',
    'plan/types.ts',
    'plan/canonical.ts',
    'kube/selector.ts',
    'kube/labels.ts',
    'cluster/node.ts',
    // the executor's events, reports and seams: types only, read by notify/ and report/
    'execute/types.ts',
  ],
  ['settings.ts'],
  // reading and changing the cluster
  // the Kubernetes and Azure clients: azure/'s client layer (ARM clients, credentials, their
  // settings) is used by reboot/vmss.ts the way reboot/pod.ts uses kube/client.ts
  ['kube/', 'azure/clients.ts', 'azure/credential.ts', 'azure/settings.ts'],
  ['cluster/'],
  ['detect/', 'drain/'],
  // estimate/: the plan's arithmetic (plan/build.ts reads the durations it records)
  ['plan/', 'estimate/'],
  // the parts an execution is made of
  ['lock/', 'gates/', 'reboot/', 'notify/'],
  ['execute/'],
  // estimate/options.ts turns settings into the report's estimate options, like an edge adapter
  ['report/', 'estimate/options.ts'],
  // integrations that wire the above together
  ['azure/'],
  // the cluster-side record of a tracking item, which github/ reads and writes
  ['ledger/'],
  ['github/'],
  ['main.ts', 'cli.ts', 'bin.ts', 'index.ts'],
];

export function layerOf(path: string): number {
  let best = -1;
  let bestLength = -1;
  LAYERS.forEach((prefixes, layer) => {
    for (const prefix of prefixes) {
      const hit = prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix;
      if (hit && prefix.length > bestLength) {
        best = layer;
        bestLength = prefix.length;
      }
    }
  });
  return best;
}

export interface FunctionInfo {
  name: string;
  file: string;
  line: number;
  lines: number;
  parameters: number;
}

export interface Metrics {
  dir: string;
  files: number;
  printWidth: number;
  lines: {
    total: number;
    nonBlank: number;
    over120: number;
    overPrintWidth: number;
    overPrintWidthNoUrl: number;
  };
  longest: { file: string; line: number; length: number };
  meanCharsPerNonBlankLine: number;
  /** `named`: parameters of functions with a name (not inline callbacks such as `(a, b) => ...`). */
  parameters: {
    total: number;
    oneLetter: number;
    oneLetterNames: Record<string, number>;
    named: { total: number; oneLetter: number };
    /** Where the one-letter parameters of named functions are, for whoever renames them. */
    oneLetterInNamed: { file: string; line: number; function: string; parameter: string }[];
  };
  functions: {
    total: number;
    over60Lines: FunctionInfo[];
    largest: FunctionInfo[];
    mostParameters: FunctionInfo[];
  };
  upwardImports: { from: string; to: string }[];
  unlayered: string[];
  /** Modules of `dir` that no test file imports (undefined when there is no test folder). */
  untested?: { modules: string[]; testFiles: number };
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const isTestFile = (name: string) => name.endsWith('.test.ts') || name.endsWith('.vmtest.ts');

/** The relative module specifiers of a file: import and export declarations, and import() calls. */
function specifiers(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    )
      found.push(node.moduleSpecifier.text);
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [first] = node.arguments;
      if (first && ts.isStringLiteralLike(first)) found.push(first.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.filter((specifier) => specifier.startsWith('.'));
}

/**
 * The modules under `sourceDir` that no test file under `testDir` imports directly (a harness
 * importing a module does not count: the module's own test is what a newcomer looks for).
 */
export function untestedModules(
  sourceDir: string,
  testDir: string,
): { modules: string[]; testFiles: number } {
  const tests = sourceFiles(testDir).filter((path) => isTestFile(path));
  const imported = new Set<string>();
  for (const path of tests) {
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    for (const specifier of specifiers(source)) imported.add(resolve(dirname(path), specifier));
  }
  const modules = sourceFiles(sourceDir)
    .filter((path) => !imported.has(path))
    .map((path) => relative(sourceDir, path).split(sep).join('/'));
  return { modules, testFiles: tests.length };
}

function functionName(node: ts.FunctionLikeDeclaration): string {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText();
  if (ts.isCallExpression(parent)) return `(callback of ${parent.expression.getText().slice(0, 40)})`;
  return '(anonymous)';
}

const isFunctionLike = (node: ts.Node): node is ts.FunctionLikeDeclaration =>
  ts.isFunctionDeclaration(node) ||
  ts.isFunctionExpression(node) ||
  ts.isArrowFunction(node) ||
  ts.isMethodDeclaration(node) ||
  ts.isConstructorDeclaration(node) ||
  ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node);

/**
 * Measures every .ts file under `dir` (a path relative to the repository or absolute); the tests
 * are looked for in `testDir`, by default the `test` folder beside `dir`.
 */
export function measure(dir: string, printWidth: number, testDir = join(dir, '..', 'test')): Metrics {
  const base = resolve(root, dir);
  const tests = resolve(root, testDir);
  const files = sourceFiles(base);
  const m: Metrics = {
    dir: relative(root, base).startsWith('..') ? base : relative(root, base) || '.',
    files: files.length,
    printWidth,
    lines: { total: 0, nonBlank: 0, over120: 0, overPrintWidth: 0, overPrintWidthNoUrl: 0 },
    longest: { file: '', line: 0, length: 0 },
    meanCharsPerNonBlankLine: 0,
    parameters: {
      total: 0,
      oneLetter: 0,
      oneLetterNames: {},
      named: { total: 0, oneLetter: 0 },
      oneLetterInNamed: [],
    },
    functions: { total: 0, over60Lines: [], largest: [], mostParameters: [] },
    upwardImports: [],
    unlayered: [],
  };
  let chars = 0;
  const all: FunctionInfo[] = [];
  for (const path of files) {
    const file = relative(base, path).split(sep).join('/');
    const text = readFileSync(path, 'utf8');
    text.split('\n').forEach((line, index) => {
      m.lines.total++;
      if (line.trim() === '') return;
      m.lines.nonBlank++;
      chars += line.length;
      if (line.length > 120) m.lines.over120++;
      if (line.length > printWidth) {
        m.lines.overPrintWidth++;
        if (!/https?:\/\//.test(line)) m.lines.overPrintWidthNoUrl++;
      }
      if (line.length > m.longest.length) m.longest = { file, line: index + 1, length: line.length };
    });
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const layer = layerOf(file);
    if (layer < 0) m.unlayered.push(file);
    const visit = (node: ts.Node): void => {
      if (isFunctionLike(node) && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
        const name = functionName(node);
        const named = !name.startsWith('(');
        all.push({ name, file, line: start + 1, lines: end - start + 1, parameters: node.parameters.length });
        for (const p of node.parameters) {
          if (!ts.isIdentifier(p.name) || p.name.text.startsWith('_') || p.name.text === 'this') continue;
          m.parameters.total++;
          if (named) m.parameters.named.total++;
          if (p.name.text.length === 1) {
            m.parameters.oneLetter++;
            if (named) {
              m.parameters.named.oneLetter++;
              const at = { file, line: start + 1, function: name, parameter: p.name.text };
              m.parameters.oneLetterInNamed.push(at);
            }
            m.parameters.oneLetterNames[p.name.text] = (m.parameters.oneLetterNames[p.name.text] ?? 0) + 1;
          }
        }
      }
      const target =
        (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
        node.moduleSpecifier &&
        ts.isStringLiteral(node.moduleSpecifier)
          ? node.moduleSpecifier.text
          : undefined;
      if (target?.startsWith('.') && layer >= 0) {
        const to = relative(base, resolve(dirname(path), target))
          .split(sep)
          .join('/');
        if (layerOf(to) > layer) m.upwardImports.push({ from: file, to });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  if (existsSync(tests)) m.untested = untestedModules(base, tests);
  m.meanCharsPerNonBlankLine = m.lines.nonBlank ? chars / m.lines.nonBlank : 0;
  m.functions.total = all.length;
  m.functions.over60Lines = all.filter((f) => f.lines > 60).sort((a, b) => b.lines - a.lines);
  m.functions.largest = [...all].sort((a, b) => b.lines - a.lines).slice(0, 5);
  m.functions.mostParameters = [...all].sort((a, b) => b.parameters - a.parameters).slice(0, 5);
  return m;
}

const percent = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)} %` : '–');
const where = (f: FunctionInfo) => `\`${f.name}\` (${f.file}:${f.line})`;

export function renderTable(m: Metrics): string {
  const top = m.functions.largest[0];
  const most = m.functions.mostParameters[0];
  const names = Object.entries(m.parameters.oneLetterNames)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([name, count]) => `\`${name}\` ×${count}`)
    .join(', ');
  const rows: [string, string][] = [
    ['Files', String(m.files)],
    [
      'Lines over 120 characters (of non-blank lines)',
      `${percent(m.lines.over120, m.lines.nonBlank)} (${m.lines.over120}; the longest ${m.longest.length}, ${m.longest.file}:${m.longest.line})`,
    ],
    [
      `Lines over the print width (${m.printWidth})`,
      `${percent(m.lines.overPrintWidth, m.lines.nonBlank)} (${m.lines.overPrintWidth}; ${m.lines.overPrintWidthNoUrl} without a URL)`,
    ],
    ['Mean characters per non-blank line', m.meanCharsPerNonBlankLine.toFixed(1)],
    [
      'One-letter parameter names',
      `${percent(m.parameters.oneLetter, m.parameters.total)} (${m.parameters.oneLetter} of ${m.parameters.total}; ${names})`,
    ],
    [
      'One-letter parameter names of named functions',
      `${percent(m.parameters.named.oneLetter, m.parameters.named.total)} (${m.parameters.named.oneLetter} of ${m.parameters.named.total})`,
    ],
    ['Largest function', top ? `${top.lines} lines, ${where(top)}` : '–'],
    ['Functions over 60 lines', `${m.functions.over60Lines.length} of ${m.functions.total}`],
    ['Most parameters of one function', most ? `${most.parameters}, ${where(most)}` : '–'],
    [
      'Upward imports',
      `${m.upwardImports.length}${m.upwardImports.length ? ': ' + m.upwardImports.map((u) => `${u.from} → ${u.to}`).join(', ') : ''}`,
    ],
  ];
  if (m.untested) {
    const { modules } = m.untested;
    rows.push([
      'Modules imported by no test',
      `${modules.length} of ${m.files}${modules.length ? ': ' + modules.join(', ') : ''}`,
    ]);
  }
  if (m.unlayered.length) rows.push(['Modules in no layer (add them to LAYERS)', m.unlayered.join(', ')]);
  return [`| ${m.dir}/ | |`, '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n') + '\n';
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--')) ?? 'src';
  const config = JSON.parse(readFileSync(join(root, '.prettierrc.json'), 'utf8')) as { printWidth?: number };
  const m = measure(dir, config.printWidth ?? 80);
  process.stdout.write(args.includes('--json') ? JSON.stringify(m, null, 2) + '\n' : renderTable(m));
}

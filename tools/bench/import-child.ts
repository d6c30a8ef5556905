// Imports the bundled action and reports how long the import took. Without GITHUB_EVENT_NAME the
// action's run() fails at once (no mode for the event) before any I/O: the import is module
// loading and evaluation. Prints one JSON line on stderr (the action's ::error:: goes to stdout).
import { pathToFileURL } from 'node:url';

const file = process.argv[2]!;
const t0 = performance.now();
await import(pathToFileURL(file).href);
const importMs = performance.now() - t0;
process.stderr.write(JSON.stringify({ importMs, startMs: t0 }) + '\n');
process.exitCode = 0;

// Builds (cold) or finds (warm) the test control plane before any test starts, so the build's
// progress is printed once instead of hiding inside the first test file's set-up.
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(fileURLToPath(import.meta.url)), 'controlplane', 'build.sh');
execFileSync('bash', [script], { stdio: ['ignore', 'ignore', 'inherit'] });

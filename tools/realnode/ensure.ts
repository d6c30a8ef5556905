// Builds (cold) or finds (warm) the control plane and then the real node image before the
// real-node tests start, so both builds print their progress once, and a failed image build
// stops the suite naming the step (tools/realnode/build.sh prints it) instead of skipping.
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const tools = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync('bash', [join(tools, 'controlplane', 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
try {
  execFileSync('bash', [join(tools, 'realnode', 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
} catch {
  console.error(
    'real-node tests: the node image could not be built (the step is named above); failing, not skipping',
  );
  process.exit(1);
}

// Starts a cluster, prints its component PIDs as one JSON line, then waits to be killed.
// Used by the rig test that SIGKILLs a test process and checks nothing survives it.
import { startCluster } from './controlplane.ts';

const c = await startCluster();
process.stdout.write(JSON.stringify({ pids: c.pids }) + '\n');
setInterval(() => undefined, 1 << 30);

// Starts a cluster and a real node VM (without waiting for Ready), prints the VM's directory as one
// JSON line, then waits to be killed. The real-node teardown test SIGKILLs it and checks that
// the VM's processes die with it.
import { startCluster } from '../harness/controlplane.ts';
import { startRealNode, realNodeClusterOptions } from '../harness/realnode.ts';

const c = await startCluster(realNodeClusterOptions(['rp-orphan']));
const n = await startRealNode(c, { name: 'rp-orphan', waitReady: false, log: () => undefined });
process.stdout.write(JSON.stringify({ dir: n.dir }) + '\n');
setInterval(() => undefined, 1 << 30);

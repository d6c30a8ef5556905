import * as k8s from '@kubernetes/client-node';
import { startCluster } from '/work/wt-11/test/harness/controlplane.ts';
import { startRealNode, realNodeClusterOptions, REAL_NODE_IMAGES } from '/work/wt-11/test/harness/realnode.ts';
const t0 = Date.now();
const cluster = await startCluster(realNodeClusterOptions(['rp-real-1']));
console.log('cluster up', Date.now() - t0);
const node = await startRealNode(cluster, { name: 'rp-real-1' });
try {
  const n = await cluster.kc.makeApiClient(k8s.CoreV1Api).readNode({ name: 'rp-real-1' });
  console.log(JSON.stringify(n.status?.nodeInfo), n.metadata?.labels);
  console.log(await node.shOk('crictl 2>/dev/null; /usr/local/bin/ctr -n k8s.io images ls -q; systemctl --failed --no-legend'));
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'bb' }, spec: { nodeName: 'rp-real-1', restartPolicy: 'Never', containers: [{ name: 'c', image: REAL_NODE_IMAGES.busybox, command: ['sh', '-c', 'echo hello > /dev/termination-log; nsenter --help 2>&1 | head -1'] }] } } });
  for (let i = 0; i < 90; i++) {
    const p = await core.readNamespacedPod({ name: 'bb', namespace: 'default' });
    if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') { console.log('pod', p.status.phase, JSON.stringify(p.status.containerStatuses?.[0]?.state), Date.now() - t0); break; }
    await new Promise((r) => setTimeout(r, 2000));
  }
} finally {
  if (process.env.HOLD) await new Promise((r) => setTimeout(r, Number(process.env.HOLD)));
  await node.stop();
  await cluster.stop();
}

// One inspection in a process of its own, so its wall time and peak RSS are its own.
// argv: <kubeconfig> <detectors> <probe-parallelism>; prints one JSON line.
import { loadKubeConfig, makeClients } from '../../src/kube/client.ts';
import { parsePlanSettings } from '../../src/settings.ts';
import { inspectCluster } from '../../src/plan/inspect.ts';

const [kubeconfig, detectors, parallelism] = process.argv.slice(2);
const settings = parsePlanSettings({
  kubeconfig,
  detectors,
  'probe-parallelism': parallelism,
  'probe-timeout': '120',
  'cluster-name': 'bench',
});
const t0 = performance.now();
const {
  plan,
  planId: id,
  probed,
} = await inspectCluster(makeClients(loadKubeConfig({ kubeconfig })), settings, () => undefined);
const wallMs = performance.now() - t0;
process.stdout.write(
  JSON.stringify({
    wallMs,
    maxRssKiB: process.resourceUsage().maxRSS,
    planId: id,
    planned: plan.nodes.length,
    upToDate: plan.upToDate.length,
    unknown: plan.unknown.length,
    probed,
  }) + '\n',
  () => process.exit(0),
);

// Set-up shared by the tests, the benchmarks and the demo: the product's RBAC (deploy/rbac.yaml)
// with a kubeconfig for its identity, and a Deployment guarded by a PodDisruptionBudget.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import type { Cluster } from './controlplane.ts';
import { waitUntil } from './simulator.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Applies deploy/rbac.yaml (subject: user reboot-pilot). */
export async function applyProductRoles(cluster: Cluster): Promise<void> {
  const objects = k8s.KubernetesObjectApi.makeApiClient(cluster.kc);
  for (const doc of parseAllDocuments(readFileSync(join(root, 'deploy', 'rbac.yaml'), 'utf8')))
    await objects.create(doc.toJSON() as k8s.KubernetesObject);
}

/** Applies deploy/rbac.yaml (subject: user reboot-pilot) and writes that user's kubeconfig into `dir`; returns its path. */
export async function applyProductRbac(cluster: Cluster, dir: string): Promise<string> {
  await applyProductRoles(cluster);
  const file = join(dir, 'reboot-pilot.kubeconfig');
  writeFileSync(file, cluster.kubeconfigFor('reboot-pilot'));
  return file;
}

/** A Deployment of `replicas` under a PDB with `minAvailable`, in a namespace it creates; waits until the budget is computed. */
export async function guardedDeployment(
  cluster: Cluster,
  o: {
    namespace: string;
    name: string;
    replicas: number;
    minAvailable: number;
    spec?: Partial<k8s.V1PodSpec>;
    cpu?: string;
    /** The container's name (default: the Deployment's). */
    container?: string;
  },
): Promise<void> {
  const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
  const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  const policy = cluster.kc.makeApiClient(k8s.PolicyV1Api);
  const labels = { app: o.name };
  await core.createNamespace({ body: { metadata: { name: o.namespace } } }).catch((e: unknown) => {
    if (!(e instanceof k8s.ApiException && e.code === 409)) throw e;
  });
  const container: k8s.V1Container = {
    name: o.container ?? o.name,
    image: 'nginx',
    ...(o.cpu ? { resources: { requests: { cpu: o.cpu } } } : {}),
  };
  await apps.createNamespacedDeployment({
    namespace: o.namespace,
    body: {
      metadata: { name: o.name },
      spec: {
        replicas: o.replicas,
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { ...o.spec, containers: [container] } },
      },
    },
  });
  await policy.createNamespacedPodDisruptionBudget({
    namespace: o.namespace,
    body: {
      metadata: { name: o.name },
      spec: { minAvailable: o.minAvailable, selector: { matchLabels: labels } },
    },
  });
  await waitUntil(
    `${o.namespace}/${o.name} available and its PDB computed`,
    async () =>
      (await policy.readNamespacedPodDisruptionBudget({ name: o.name, namespace: o.namespace })).status
        ?.currentHealthy === o.replicas,
    60_000,
  );
}

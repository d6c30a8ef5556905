// Nodes for the unit tests of the planner, the estimate, the report and the executor, written
// once: a node object as a cluster snapshot holds it (snapshotNode), a snapshot of such nodes
// (snapshotOf) with the planner's plain options (PLAN_OPTIONS), and a node of a plan (planNode).
// Each test names only what it is about; the rest is a plain Ready Linux AKS node.
import type * as k8s from '@kubernetes/client-node';
import type { PlanNode } from '../../src/plan/types.ts';
import type { PlanOptions } from '../../src/plan/build.ts';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.ts';

/** The planner's options for a plain run: nodes in name order, no selectors, the hosts probed. */
export const PLAN_OPTIONS: Readonly<PlanOptions> = {
  order: 'name',
  drain: { deleteEmptyDirData: false, force: false },
  blockingPodSelector: '',
  nodeSelector: '',
  rebootOnNewerKernel: false,
  probeEnabled: true,
};

/** A snapshot of AKS cluster c (UID u) that holds these nodes and nothing else. */
export function snapshotOf(nodes: k8s.V1Node[]): ClusterSnapshot {
  return {
    identity: { uid: 'u', name: 'c', server: 'https://k', provider: 'aks' },
    nodes,
    pods: [],
    pdbs: [],
  };
}

export interface SnapshotNodeOptions {
  name: string;
  /** Its AKS pool (label kubernetes.azure.com/agentpool). */
  pool: string;
  /** Default azure:///x/<name>. */
  providerID?: string;
  kernelVersion?: string;
  osImage?: string;
  /** linux (the default) or windows: the kubernetes.io/os label and nodeInfo.operatingSystem. */
  operatingSystem?: string;
  unschedulable?: boolean;
  annotations?: Record<string, string>;
}

/** A Ready node as a cluster snapshot holds it; its boot ID is boot-<name>. */
export function snapshotNode(options: SnapshotNodeOptions): k8s.V1Node {
  const operatingSystem = options.operatingSystem ?? 'linux';
  return {
    metadata: {
      name: options.name,
      labels: { 'kubernetes.azure.com/agentpool': options.pool, 'kubernetes.io/os': operatingSystem },
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      providerID: options.providerID ?? `azure:///x/${options.name}`,
      ...(options.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
      nodeInfo: {
        bootID: `boot-${options.name}`,
        kernelVersion: options.kernelVersion ?? '5.15.0-1079-azure',
        osImage: options.osImage ?? 'Ubuntu',
        architecture: 'amd64',
        containerRuntimeVersion: '',
        kubeProxyVersion: '',
        kubeletVersion: '',
        machineID: '',
        operatingSystem,
        systemUUID: '',
      },
    },
  };
}

/** A node of a plan: n1 of pool p, rebooted into a newer kernel the sentinel asks for; `extra` overrides. */
export function planNode(extra: Partial<PlanNode> = {}): PlanNode {
  return {
    name: 'n1',
    providerID: 'azure:///x/virtualMachines/0',
    pool: 'p',
    os: 'linux',
    bootID: 'boot-1',
    nodeImageVersion: '',
    osImage: 'Ubuntu',
    kernel: { running: '5.15.0-1079-azure', next: '5.15.0-1081-azure' },
    update: 'reboot',
    order: 1,
    evidence: [{ source: 'sentinel', detail: 'x' }],
    packages: { requiringReboot: [], requiringRebootTotal: 0, sinceBoot: [], sinceBootTotal: 0 },
    evictions: [],
    risks: [],
    ...extra,
  };
}

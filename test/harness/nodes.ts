// Node objects that look like the real thing: AKS VMSS nodes (labels, providerID, nodeInfo as AKS
// sets them) and kubeadm/on-prem nodes. KWOK keeps them Ready and preserves nodeInfo.
import { randomUUID } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';

export interface NodeSpec {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  providerID?: string;
  taints?: k8s.V1Taint[];
  unschedulable?: boolean;
  kernelVersion: string;
  osImage: string;
  operatingSystem?: 'linux' | 'windows';
  bootID?: string;
  /** Boot time (Unix seconds) the simulated /proc/stat shows; default a day ago. */
  bootTime?: number;
  cpu?: string;
  memory?: string;
  pods?: string;
}

export interface AksNodeOptions {
  pool: string;
  index: number;
  subscription?: string;
  /** The node resource group (MC_...). */
  nodeResourceGroup?: string;
  vmssSuffix?: string;
  os?: 'linux' | 'windows';
  osSku?: string;
  nodeImageVersion?: string;
  kernelVersion?: string;
  osImage?: string;
  mode?: 'system' | 'user';
  zone?: string;
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
}

export const DEFAULT_SUBSCRIPTION = '00000000-0000-0000-0000-000000000001';
export const DEFAULT_NODE_RG = 'MC_rg-platform_aks-prod_westeurope';

/** An AKS VMSS node: name aks-<pool>-<suffix>-vmss<base36 index>, providerID naming the VMSS instance. */
export function aksNode(o: AksNodeOptions): NodeSpec {
  const suffix = o.vmssSuffix ?? '12345678';
  const sub = o.subscription ?? DEFAULT_SUBSCRIPTION;
  const rg = o.nodeResourceGroup ?? DEFAULT_NODE_RG;
  const windows = o.os === 'windows';
  // Windows node names are limited to 15 characters on AKS: <pool prefix><index>.
  const vmss = `aks-${o.pool}-${suffix}-vmss`;
  const name = windows
    ? `${o.pool.slice(0, 6)}${String(o.index).padStart(6, '0')}`
    : `${vmss}${o.index.toString(36).padStart(6, '0')}`;
  const osSku = o.osSku ?? (windows ? 'Windows2022' : 'Ubuntu');
  const image =
    o.nodeImageVersion ??
    (windows ? 'AKSWindows-2022-containerd-20348.3207.250212' : 'AKSUbuntu-2204gen2containerd-202509.23.0');
  return {
    name,
    providerID: `azure:///subscriptions/${sub}/resourceGroups/${rg.toLowerCase()}/providers/Microsoft.Compute/virtualMachineScaleSets/${windows ? `aks${o.pool}` : vmss}/virtualMachines/${o.index}`,
    labels: {
      agentpool: o.pool,
      'kubernetes.azure.com/agentpool': o.pool,
      'kubernetes.azure.com/cluster': rg,
      'kubernetes.azure.com/mode': o.mode ?? 'user',
      'kubernetes.azure.com/node-image-version': image,
      'kubernetes.azure.com/nodepool-type': 'VirtualMachineScaleSets',
      'kubernetes.azure.com/os-sku': osSku,
      'kubernetes.azure.com/role': 'agent',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': windows ? 'windows' : 'linux',
      'node.kubernetes.io/instance-type': 'Standard_D4s_v5',
      'topology.kubernetes.io/region': 'westeurope',
      'topology.kubernetes.io/zone': o.zone ?? `westeurope-${(o.index % 3) + 1}`,
      ...o.labels,
    },
    operatingSystem: windows ? 'windows' : 'linux',
    kernelVersion: o.kernelVersion ?? (windows ? '10.0.20348.3207' : '5.15.0-1079-azure'),
    osImage: o.osImage ?? (windows ? 'Windows Server 2022 Datacenter' : 'Ubuntu 22.04.5 LTS'),
    cpu: o.cpu ?? '3860m',
    memory: o.memory ?? '12Gi',
    pods: '110',
    ...(windows ? { taints: [{ key: 'sku', value: 'windows', effect: 'NoSchedule' }] } : {}),
  };
}

/** A kubeadm-style worker: no providerID, only the well-known labels. */
export function kubeadmNode(name: string, extra: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name,
    labels: {
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': 'linux',
      ...extra.labels,
    },
    kernelVersion: '6.8.0-45-generic',
    osImage: 'Ubuntu 24.04.1 LTS',
    cpu: '4',
    memory: '16Gi',
    pods: '110',
    ...extra,
  };
}

export function toNodeObject(s: NodeSpec): k8s.V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: s.name, labels: s.labels ?? {}, annotations: s.annotations ?? {} },
    spec: {
      ...(s.providerID ? { providerID: s.providerID } : {}),
      ...(s.taints ? { taints: s.taints } : {}),
      ...(s.unschedulable ? { unschedulable: true } : {}),
    },
    status: {
      allocatable: { cpu: s.cpu ?? '4', memory: s.memory ?? '16Gi', pods: s.pods ?? '110' },
      capacity: { cpu: s.cpu ?? '4', memory: s.memory ?? '16Gi', pods: s.pods ?? '110' },
      nodeInfo: nodeInfo(s),
    },
  };
}

function nodeInfo(s: NodeSpec): k8s.V1NodeSystemInfo {
  return {
    architecture: 'amd64',
    bootID: s.bootID ?? randomUUID(),
    containerRuntimeVersion: 'containerd://1.7.27-1',
    kernelVersion: s.kernelVersion,
    kubeProxyVersion: '',
    kubeletVersion: 'v1.36.3',
    machineID: randomUUID().replace(/-/g, ''),
    operatingSystem: s.operatingSystem ?? 'linux',
    osImage: s.osImage,
    systemUUID: randomUUID(),
  };
}

export { isReady } from '../../src/cluster/node.ts';

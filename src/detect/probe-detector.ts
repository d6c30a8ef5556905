// The host probe behind the Detector seam: one probe pod per Ready Linux candidate (probe.ts).
import type { KubeClients } from '../kube/client.ts';
import type { PlanSettings } from '../settings.ts';
import { runProbes, type ProbeOptions } from './probe.ts';
import type { Detector } from './types.ts';

export function probeOptions(settings: PlanSettings): ProbeOptions {
  return {
    image: settings.image,
    namespace: settings.namespace,
    parallelism: settings.probeParallelism,
    timeoutSeconds: settings.probeTimeout,
    sentinel: settings.sentinel,
    sentinelCommand: settings.sentinelCommand,
  };
}

export function probeDetector(kube: KubeClients, options: ProbeOptions): Detector {
  return {
    name: 'probe',
    async detect({ probe }, log) {
      if (!probe.length) return { probes: new Map() };
      const { parallelism, timeoutSeconds, image } = options;
      const each = `${parallelism} at a time, ${timeoutSeconds}s each, image ${image}`;
      log(`probing ${probe.length} Linux nodes (${each})`);
      return { probes: await runProbes(kube, probe, options, log) };
    },
  };
}

// AKS facts the planner and the gates use, read once at the edge so planning stays pure: the
// node OS upgrade channel, each pool's node image (current and latest, from getUpgradeProfile),
// type, OS and upgradeSettings, and the planned maintenance configurations.
import type { MaintenanceConfiguration } from '@azure/arm-containerservice';
import type { AksFacts, AksPoolFacts } from '../plan/types.ts';
import type { MaintenanceConfig } from '../gates/maintenance.ts';
import { explainAzureError, type AzureClients } from './clients.ts';

/** The date part (YYYY-MM-DD) of a date the SDK gives as a Date or as text. */
function day(date: Date | string | undefined): string | undefined {
  if (date === undefined) return undefined;
  return (date instanceof Date ? date.toISOString() : date).slice(0, 10);
}

export function normaliseMaintenance(config: MaintenanceConfiguration): MaintenanceConfig {
  const w = config.maintenanceWindow;
  const out: MaintenanceConfig = { name: config.name ?? '' };
  if (w) {
    const startDate = day(w.startDate);
    out.maintenanceWindow = {
      schedule: w.schedule,
      durationHours: w.durationHours,
      startTime: w.startTime,
      ...(w.utcOffset ? { utcOffset: w.utcOffset } : {}),
      ...(startDate ? { startDate } : {}),
      ...(w.notAllowedDates?.length
        ? { notAllowedDates: w.notAllowedDates.map((d) => ({ start: day(d.start)!, end: day(d.end)! })) }
        : {}),
    };
  }
  if (config.timeInWeek?.length || config.notAllowedTime?.length) {
    out.legacy = {
      timeInWeek: (config.timeInWeek ?? []).map((t) => ({
        ...(t.day ? { day: t.day } : {}),
        hourSlots: t.hourSlots ?? [],
      })),
      notAllowedTime: (config.notAllowedTime ?? []).map((t) => ({
        ...(t.start ? { start: new Date(t.start).toISOString() } : {}),
        ...(t.end ? { end: new Date(t.end).toISOString() } : {}),
      })),
    };
  }
  return out;
}

export interface AksReading {
  facts: AksFacts;
  maintenance: MaintenanceConfig[];
}

export async function readAksFacts(az: AzureClients): Promise<AksReading> {
  const { resourceGroup: rg, name } = az.cluster;
  const where = `AKS cluster ${rg}/${name}`;
  try {
    const mc = await az.aks.managedClusters.get(rg, name);
    const pools: Record<string, AksPoolFacts> = {};
    for await (const p of az.aks.agentPools.list(rg, name)) {
      const profile = await az.aks.agentPools.getUpgradeProfile(rg, name, p.name!);
      const u = p.upgradeSettings;
      pools[p.name!] = {
        nodeImageVersion: p.nodeImageVersion ?? '',
        latestNodeImageVersion: profile.latestNodeImageVersion ?? '',
        osType: p.osType ?? 'Linux',
        type: p.typePropertiesType ?? 'VirtualMachineScaleSets',
        upgradeSettings: {
          ...(u?.maxSurge ? { maxSurge: u.maxSurge } : {}),
          ...(u?.maxUnavailable ? { maxUnavailable: u.maxUnavailable } : {}),
          ...(u?.drainTimeoutInMinutes !== undefined
            ? { drainTimeoutInMinutes: u.drainTimeoutInMinutes }
            : {}),
          ...(u?.nodeSoakDurationInMinutes !== undefined
            ? { nodeSoakDurationInMinutes: u.nodeSoakDurationInMinutes }
            : {}),
        },
      };
    }
    const maintenance: MaintenanceConfig[] = [];
    for await (const m of az.aks.maintenanceConfigurations.listByManagedCluster(rg, name))
      maintenance.push(normaliseMaintenance(m));
    return {
      facts: { nodeOSUpgradeChannel: mc.autoUpgradeProfile?.nodeOSUpgradeChannel ?? 'Unmanaged', pools },
      maintenance,
    };
  } catch (e) {
    throw explainAzureError(e, `read ${where}`);
  }
}

/** The configuration the gate honours: the first of the wanted names the cluster has. */
export function chooseMaintenance(all: MaintenanceConfig[], wanted: string[]): MaintenanceConfig | undefined {
  for (const w of wanted) {
    const c = all.find((m) => m.name.toLowerCase() === w.toLowerCase());
    if (c && (c.maintenanceWindow || c.legacy)) return c;
  }
  return undefined;
}

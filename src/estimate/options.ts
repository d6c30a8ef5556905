// The estimate's inputs from the execution settings: the soak, and the window nodes may start in
// (kured's reboot-days/start-time/end-time/time-zone). A window open all week is no window.
import type { ExecuteSettings } from '../settings.ts';
import { inWindow, parseWindow } from '../gates/window.ts';
import type { EstimateOptions } from '../report/estimate.ts';

type WindowSettings = Pick<ExecuteSettings, 'soak' | 'rebootDays' | 'startTime' | 'endTime' | 'timeZone'>;

/** With AKS planned maintenance as well, a node may start only when both windows are open. */
type AksWindow = { maintenance?: string; maintenanceOpen?: (at: Date) => boolean };

export function estimateOptions(settings: WindowSettings, aks?: AksWindow): EstimateOptions {
  const { rebootDays, startTime, endTime, timeZone, soak } = settings;
  const window = parseWindow(rebootDays, startTime, endTime, timeZone);
  const always = window.days.size === 7 && window.startMin === 0 && window.endMin >= 24 * 60 - 1;
  const parts: { text: string; isOpen: (at: Date) => boolean }[] = [];
  if (!always) {
    const text = `${rebootDays} ${startTime}–${endTime} ${timeZone}`;
    parts.push({ text, isOpen: (at) => inWindow(window, at) });
  }
  if (aks?.maintenanceOpen) {
    const text = `AKS planned maintenance ${aks.maintenance ?? ''}`.trim();
    parts.push({ text, isOpen: aks.maintenanceOpen });
  }
  if (!parts.length) return { soakSeconds: soak };
  const text = parts.map((part) => part.text).join(' and ');
  return { soakSeconds: soak, window: { text, isOpen: (at) => parts.every((part) => part.isOpen(at)) } };
}

// The estimate's inputs from the execution settings: the soak, and the window nodes may start in
// (kured's reboot-days/start-time/end-time/time-zone). A window open all week is no window.
import type { ExecuteSettings } from '../settings.ts';
import { inWindow, parseWindow } from '../gates/window.ts';
import type { EstimateOptions } from '../report/estimate.ts';

type WindowSettings = Pick<ExecuteSettings, 'soak' | 'rebootDays' | 'startTime' | 'endTime' | 'timeZone'>;

/** With AKS planned maintenance as well, a node may start only when both windows are open. */
type AksWindow = { maintenance?: string; maintenanceOpen?: (at: Date) => boolean };

export function estimateOptions(s: WindowSettings, aks?: AksWindow): EstimateOptions {
  const w = parseWindow(s.rebootDays, s.startTime, s.endTime, s.timeZone);
  const always = w.days.size === 7 && w.startMin === 0 && w.endMin >= 24 * 60 - 1;
  const parts: { text: string; isOpen: (at: Date) => boolean }[] = [];
  if (!always) {
    const text = `${s.rebootDays} ${s.startTime}–${s.endTime} ${s.timeZone}`;
    parts.push({ text, isOpen: (at) => inWindow(w, at) });
  }
  if (aks?.maintenanceOpen) {
    const text = `AKS planned maintenance ${aks.maintenance ?? ''}`.trim();
    parts.push({ text, isOpen: aks.maintenanceOpen });
  }
  if (!parts.length) return { soakSeconds: s.soak };
  const text = parts.map((p) => p.text).join(' and ');
  return { soakSeconds: s.soak, window: { text, isOpen: (at) => parts.every((p) => p.isOpen(at)) } };
}

// The estimate's inputs from the execution settings: the soak, and the window nodes may start in
// (kured's reboot-days/start-time/end-time/time-zone). A window open all week is no window.
import type { ExecuteSettings } from '../settings.ts';
import { inWindow, parseWindow } from '../gates/window.ts';
import type { EstimateOptions } from '../report/estimate.ts';

type WindowSettings = Pick<ExecuteSettings, 'soak' | 'reboot-days' | 'start-time' | 'end-time' | 'time-zone'>;

export function estimateOptions(s: WindowSettings): EstimateOptions {
  const w = parseWindow(s['reboot-days'], s['start-time'], s['end-time'], s['time-zone']);
  const always = w.days.size === 7 && w.startMin === 0 && w.endMin >= 24 * 60 - 1;
  if (always) return { soakSeconds: s.soak };
  const text = `${s['reboot-days']} ${s['start-time']}–${s['end-time']} ${s['time-zone']}`;
  return { soakSeconds: s.soak, window: { text, isOpen: (at) => inWindow(w, at) } };
}

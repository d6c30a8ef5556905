// The alert gate (kured's --prometheus-url): while matching alerts are active, no node starts.
// Reads Prometheus (/api/v1/alerts) or Alertmanager (/api/v2/alerts). Unreachable or unreadable
// means closed: a gate that cannot look must not let a reboot through.
import { OPEN, type Gate, type GateResult } from './types.ts';

export interface AlertFilter {
  /** Only alerts whose name matches count (empty: all). */
  include?: RegExp;
  /** Alerts whose name matches never count. */
  exclude?: RegExp;
  /** Only firing alerts count (Prometheus "pending" ones are ignored). */
  firingOnly: boolean;
}

interface Alert {
  name: string;
  state: string;
}

export function blockingAlerts(alerts: Alert[], filter: AlertFilter): Alert[] {
  return alerts.filter(
    (alert) =>
      (!filter.include || filter.include.test(alert.name)) &&
      !filter.exclude?.test(alert.name) &&
      (!filter.firingOnly || alert.state === 'firing' || alert.state === 'active'),
  );
}

/** Prometheus's /api/v1/alerts answer, as far as it is read here. */
interface PrometheusAlerts {
  status?: string;
  data?: { alerts?: { labels?: Record<string, string>; state?: string }[] };
}

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/json' },
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

/** Active alerts from Prometheus or, when that API is absent, Alertmanager. */
export async function readAlerts(base: string, timeoutMs = 10_000): Promise<Alert[]> {
  const root = base.replace(/\/+$/, '');
  const prom = await getJson(`${root}/api/v1/alerts`, timeoutMs);
  if (prom.status === 200) {
    // Anything but the documented object (null, a string: JSON.parse gives any) is unexpected.
    const answer = prom.body as PrometheusAlerts | null | undefined;
    const alerts = answer?.status === 'success' ? answer.data?.alerts : undefined;
    if (!Array.isArray(alerts)) throw new Error(`unexpected answer from ${root}/api/v1/alerts`);
    return alerts.map((alert) => ({
      name: alert.labels?.alertname ?? '(unnamed)',
      state: alert.state ?? 'firing',
    }));
  }
  const am = await getJson(`${root}/api/v2/alerts?active=true&silenced=false&inhibited=false`, timeoutMs);
  if (am.status === 200 && Array.isArray(am.body)) {
    const alerts = am.body as { labels?: Record<string, string>; status?: { state?: string } }[];
    return alerts.map((alert) => ({
      name: alert.labels?.alertname ?? '(unnamed)',
      state: alert.status?.state ?? 'active',
    }));
  }
  throw new Error(
    `neither a Prometheus (/api/v1/alerts: HTTP ${prom.status}) nor an Alertmanager ` +
      `(/api/v2/alerts: HTTP ${am.status}) API at ${root}`,
  );
}

export class AlertGate implements Gate {
  readonly name = 'alerts';
  private readonly url: string;
  private readonly filter: AlertFilter;

  constructor(url: string, filter: AlertFilter) {
    this.url = url;
    this.filter = filter;
  }

  async check(): Promise<GateResult> {
    let alerts: Alert[];
    try {
      alerts = await readAlerts(this.url);
    } catch (error) {
      const why = (error as Error).message;
      return { open: false, reason: `cannot read alerts from ${this.url} (${why}); not rebooting blind` };
    }
    const blocking = blockingAlerts(alerts, this.filter);
    if (!blocking.length) return OPEN;
    const names = [...new Set(blocking.map((alert) => alert.name))].sort();
    return { open: false, reason: `active alerts: ${names.join(', ')}` };
  }
}

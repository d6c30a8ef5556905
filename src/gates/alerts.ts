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

export function blockingAlerts(alerts: Alert[], f: AlertFilter): Alert[] {
  return alerts.filter(
    (a) =>
      (!f.include || f.include.test(a.name)) &&
      !(f.exclude && f.exclude.test(a.name)) &&
      (!f.firingOnly || a.state === 'firing' || a.state === 'active'),
  );
}

async function getJson(url: string, timeoutMs: number): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/json' },
  });
  const text = await r.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: r.status, body };
}

/** Active alerts from Prometheus or, when that API is absent, Alertmanager. */
export async function readAlerts(base: string, timeoutMs = 10_000): Promise<Alert[]> {
  const root = base.replace(/\/+$/, '');
  const prom = await getJson(`${root}/api/v1/alerts`, timeoutMs);
  if (prom.status === 200) {
    const b = prom.body as {
      status?: string;
      data?: { alerts?: { labels?: Record<string, string>; state?: string }[] };
    };
    if (b?.status !== 'success' || !Array.isArray(b.data?.alerts))
      throw new Error(`unexpected answer from ${root}/api/v1/alerts`);
    return b.data!.alerts!.map((a) => ({
      name: a.labels?.alertname ?? '(unnamed)',
      state: a.state ?? 'firing',
    }));
  }
  const am = await getJson(`${root}/api/v2/alerts?active=true&silenced=false&inhibited=false`, timeoutMs);
  if (am.status === 200 && Array.isArray(am.body)) {
    return (am.body as { labels?: Record<string, string>; status?: { state?: string } }[]).map((a) => ({
      name: a.labels?.alertname ?? '(unnamed)',
      state: a.status?.state ?? 'active',
    }));
  }
  throw new Error(
    `neither a Prometheus (/api/v1/alerts: HTTP ${prom.status}) nor an Alertmanager (/api/v2/alerts: HTTP ${am.status}) API at ${root}`,
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
    } catch (e) {
      return {
        open: false,
        reason: `cannot read alerts from ${this.url} (${(e as Error).message}); not rebooting blind`,
      };
    }
    const blocking = blockingAlerts(alerts, this.filter);
    return blocking.length
      ? {
          open: false,
          reason: `active alerts: ${[...new Set(blocking.map((a) => a.name))].sort().join(', ')}`,
        }
      : OPEN;
  }
}

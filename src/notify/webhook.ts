// Chat notifications at drain, reboot and uncordon (kured's --notify-url and message templates).
// Slack incoming webhooks get {"text"}; Microsoft Teams (Workflows webhooks) an Adaptive Card.
// A notification that fails is logged and never stops a run.
import type { ExecEvent } from '../execute/types.ts';
import { shortId } from '../plan/canonical.ts';

export type ChatFormat = 'slack' | 'teams';

export interface NotifyOptions {
  url: string;
  format: ChatFormat;
  /** Templates: %s or {{node}} is the node name, {{plan}} the short plan ID, {{cluster}} the cluster. */
  templates: { drain: string; reboot: string; uncordon: string };
  cluster: string;
  planId: string;
}

export const DEFAULT_TEMPLATES = {
  drain: 'Draining node %s',
  reboot: 'Rebooting node %s',
  uncordon: 'Node %s rebooted and uncordoned',
};

/** The chat format a webhook URL implies, when the setting says auto. */
export function formatFor(url: string): ChatFormat {
  const host = new URL(url).hostname;
  return /(^|\.)webhook\.office\.com$|(^|\.)logic\.azure\.com$|(^|\.)powerplatform\.com$/.test(host)
    ? 'teams'
    : 'slack';
}

export function render(template: string, values: { node: string; plan: string; cluster: string }): string {
  return template
    .replace(/%s/g, values.node)
    .replace(/\{\{\s*node\s*\}\}/g, values.node)
    .replace(/\{\{\s*plan\s*\}\}/g, values.plan)
    .replace(/\{\{\s*cluster\s*\}\}/g, values.cluster);
}

export function payload(format: ChatFormat, text: string): unknown {
  if (format === 'slack') return { text };
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [{ type: 'TextBlock', text, wrap: true }],
        },
      },
    ],
  };
}

/** Turns execution events into chat messages; returns the listener to pass to the executor. */
export function chatNotifier(
  options: NotifyOptions,
  log: (line: string) => void,
): (event: ExecEvent) => void {
  const which: Record<string, keyof NotifyOptions['templates']> = {
    drain: 'drain',
    reboot: 'reboot',
    uncordon: 'uncordon',
  };
  const host = new URL(options.url).host;
  return (event) => {
    if (event.type !== 'step' || !which[event.step]) return;
    const text = render(options.templates[which[event.step]!], {
      node: event.node,
      plan: shortId(options.planId),
      cluster: options.cluster,
    });
    void fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload(options.format, text)),
      signal: AbortSignal.timeout(10_000),
    })
      .then((response) => {
        if (!response.ok) log(`notification to ${host} failed: HTTP ${response.status}`);
      })
      .catch((error: unknown) => log(`notification to ${host} failed: ${(error as Error).message}`));
  };
}

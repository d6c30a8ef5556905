// Where the ledger lives: one ConfigMap per cluster, `reboot-pilot-ledger` in the action's
// namespace. Every write replaces the whole object at the resourceVersion it read (optimistic
// concurrency): a job killed mid-write leaves either the old or the new object, never half of one,
// and two jobs writing at once (decide beside an execution) never lose each other's changes.
import * as k8s from '@kubernetes/client-node';
import { gunzipSync, gzipSync } from 'node:zlib';
import { explainApiError, type KubeClients } from '../kube/client.ts';
import { UserError } from '../errors.ts';
import { MANAGED_BY } from '../kube/labels.ts';
import { LEDGER_KEY, LEDGER_NAME, Ledger, PLAN_KEY } from './record.ts';

/** ConfigMaps hold at most 1 MiB; a margin for metadata. */
const CONFIGMAP_LIMIT = 1_000_000;

export interface LedgerSnapshot {
  ledger: Ledger;
  /** The plan file ({ planId, plan }) the approvals are for, when one was recorded. */
  planFile?: string;
}

const code = (error: unknown) => (error instanceof k8s.ApiException ? error.code : undefined);

export class LedgerStore {
  private readonly c: KubeClients;
  readonly namespace: string;
  private resourceVersion: string | undefined;
  private planText: string | undefined;
  /** Requests made to the Kubernetes API for the ledger (logged per run; the benchmark counts them). */
  reads = 0;
  writes = 0;

  constructor(kube: KubeClients, namespace: string) {
    this.c = kube;
    this.namespace = namespace;
  }

  private where() {
    return `configmaps ${this.namespace}/${LEDGER_NAME}`;
  }

  /** The ledger, or undefined when there is none yet. */
  async read(): Promise<LedgerSnapshot | undefined> {
    let cm: k8s.V1ConfigMap;
    try {
      this.reads++;
      cm = await this.c.core.readNamespacedConfigMap({ name: LEDGER_NAME, namespace: this.namespace });
    } catch (e) {
      if (code(e) === 404) {
        this.resourceVersion = undefined;
        return undefined;
      }
      throw explainApiError(e, 'get', this.where(), this.c.server);
    }
    this.resourceVersion = cm.metadata?.resourceVersion;
    const text = cm.data?.[LEDGER_KEY];
    let parsed: ReturnType<typeof Ledger.safeParse> | undefined;
    try {
      parsed = text ? Ledger.safeParse(JSON.parse(text)) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success)
      throw new UserError(
        `the ledger ${this.where()} does not parse as Reboot Pilot's record (was it edited by ` +
          'hand?); fix or delete it (deleting it forgets the approvals and the execution state)',
      );
    const gz = cm.binaryData?.[PLAN_KEY];
    this.planText = gz
      ? gunzipSync(Buffer.from(gz, 'base64'), { maxOutputLength: 64 << 20 }).toString('utf8')
      : undefined;
    return { ledger: parsed.data, ...(this.planText ? { planFile: this.planText } : {}) };
  }

  private body(ledger: Ledger, planFile: string | undefined): k8s.V1ConfigMap {
    const data = { [LEDGER_KEY]: JSON.stringify(ledger, null, 1) };
    const binaryData = planFile ? { [PLAN_KEY]: gzipSync(planFile).toString('base64') } : undefined;
    const size = data[LEDGER_KEY].length + (binaryData?.[PLAN_KEY].length ?? 0);
    if (size > CONFIGMAP_LIMIT)
      throw new UserError(
        `the ledger for ${ledger.cluster} would be ${size} bytes, over a ConfigMap's 1 MiB; ` +
          'narrow the plan with node-selector',
      );
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: LEDGER_NAME,
        namespace: this.namespace,
        labels: { ...MANAGED_BY },
        ...(this.resourceVersion ? { resourceVersion: this.resourceVersion } : {}),
      },
      data,
      ...(binaryData ? { binaryData } : {}),
    };
  }

  private async write(ledger: Ledger, planFile: string | undefined): Promise<void> {
    const body = this.body(ledger, planFile);
    this.writes++;
    const r = this.resourceVersion
      ? await this.c.core.replaceNamespacedConfigMap({ name: LEDGER_NAME, namespace: this.namespace, body })
      : await this.c.core.createNamespacedConfigMap({ namespace: this.namespace, body });
    this.resourceVersion = r.metadata?.resourceVersion;
    this.planText = planFile;
  }

  /**
   * Applies `change` to the newest ledger and writes it at the version read; on a conflict (another
   * job wrote meanwhile) reads again and re-applies. `change` returns undefined for "no write".
   * `planFile`: replaces the stored plan (a new revision); otherwise the stored one is kept.
   */
  async update<T>(
    change: (s: LedgerSnapshot | undefined) => { ledger: Ledger; planFile?: string; out: T } | undefined,
    first?: LedgerSnapshot | 'none',
  ): Promise<{ snapshot: LedgerSnapshot | undefined; out: T | undefined }> {
    // `first`: what this job read last ('none': it found no ledger), so that an unchanged
    // object is not read again.
    let snap = first === 'none' ? undefined : (first ?? (await this.read()));
    // 'none' is a create: one that meets an object written since then conflicts and reads it.
    if (first === 'none') this.resourceVersion = undefined;
    for (let attempt = 0; ; attempt++) {
      const next = change(snap);
      if (!next) return { snapshot: snap, out: undefined };
      try {
        await this.write(
          { ...next.ledger, updatedAt: new Date().toISOString() },
          next.planFile ?? this.planText,
        );
        const planFile = this.planText;
        return { snapshot: { ledger: next.ledger, ...(planFile ? { planFile } : {}) }, out: next.out };
      } catch (e) {
        if ((code(e) === 409 || code(e) === 404) && attempt < 8) {
          snap = await this.read();
          continue;
        }
        if (e instanceof UserError) throw e;
        throw explainApiError(e, this.resourceVersion ? 'update' : 'create', this.where(), this.c.server);
      }
    }
  }
}

// kured's --blocking-pod-selector: while a matching pod runs on the node, its reboot waits.
import type { KubeClients } from '../kube/client.ts';
import { matches, parseSelector } from '../kube/selector.ts';
import { podsOnNode } from '../drain/drain.ts';
import { isFinished } from '../drain/filters.ts';
import { OPEN, type Gate, type GateContext, type GateResult } from './types.ts';

export class BlockingPodGate implements Gate {
  readonly name = 'blocking pods';
  private readonly c: KubeClients;
  private readonly selectorText: string;

  constructor(c: KubeClients, selector: string) {
    this.c = c;
    this.selectorText = selector;
  }

  async check(ctx: GateContext): Promise<GateResult> {
    const sel = parseSelector(this.selectorText, 'blocking pod selector');
    const node = ctx.node.metadata!.name!;
    const blocking = (await podsOnNode(this.c, node)).filter(
      (p) => !isFinished(p) && matches(sel, p.metadata?.labels),
    );
    return blocking.length
      ? {
          open: false,
          reason: `${blocking.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).join(', ')} on ${node} match the blocking pod selector ${this.selectorText}`,
        }
      : OPEN;
  }
}

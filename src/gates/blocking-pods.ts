// kured's --blocking-pod-selector: while a matching pod runs on the node, its reboot waits.
import type { KubeClients } from '../kube/client.ts';
import { matches, parseSelector } from '../kube/selector.ts';
import { podsOnNode } from '../drain/drain.ts';
import { isFinished } from '../drain/filters.ts';
import { OPEN, type Gate, type GateContext, type GateResult } from './types.ts';

export class BlockingPodGate implements Gate {
  readonly name = 'blocking pods';
  private readonly kube: KubeClients;
  private readonly selectorText: string;

  constructor(kube: KubeClients, selector: string) {
    this.kube = kube;
    this.selectorText = selector;
  }

  async check(context: GateContext): Promise<GateResult> {
    const selector = parseSelector(this.selectorText, 'blocking pod selector');
    const node = context.node.metadata!.name!;
    const blocking = (await podsOnNode(this.kube, node)).filter(
      (pod) => !isFinished(pod) && matches(selector, pod.metadata?.labels),
    );
    if (!blocking.length) return OPEN;
    const pods = blocking.map((pod) => `${pod.metadata?.namespace}/${pod.metadata?.name}`).join(', ');
    return {
      open: false,
      reason: `${pods} on ${node} match the blocking pod selector ${this.selectorText}`,
    };
  }
}

// The few Kubernetes API calls the lab makes when it plays a Kubernetes user and the kubelet:
// NetworkAttachmentDefinitions for Weft networks, and pods scheduled to a lab host with the
// networks they ask for. Plain REST, as kubectl sends it.
import { NETWORKS_ANNOTATION } from '@weft/kube-manager';

export interface KubePod {
  metadata: { name: string; namespace: string; uid: string; annotations?: Record<string, string> };
  spec: { nodeName?: string };
}

export class KubeClient {
  constructor(readonly url: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as T & { message?: string };
    if (!response.ok && response.status !== 409) {
      throw new Error(`${method} ${path}: ${response.status} ${answer.message ?? ''}`);
    }
    return { status: response.status, body: answer };
  }

  /** A NetworkAttachmentDefinition of weft-cni on a Weft network of the same name; one already there is kept. */
  async ensureAttachment(namespace: string, network: string): Promise<void> {
    await this.request('POST', `/apis/k8s.cni.cncf.io/v1/namespaces/${namespace}/network-attachment-definitions`, {
      apiVersion: 'k8s.cni.cncf.io/v1',
      kind: 'NetworkAttachmentDefinition',
      metadata: { name: network },
      spec: { config: JSON.stringify({ cniVersion: '1.1.0', name: network, type: 'weft-cni', network }) },
    });
  }

  /** A pod bound to a node (as the scheduler leaves it), asking for these extra networks in order. */
  async createPod(
    namespace: string,
    name: string,
    node: string,
    extraNetworks: string[],
    labels: Record<string, string> = {},
  ): Promise<KubePod> {
    const annotations = extraNetworks.length
      ? { [NETWORKS_ANNOTATION]: JSON.stringify(extraNetworks.map((network) => ({ name: network }))) }
      : {};
    const { status, body } = await this.request<KubePod>('POST', `/api/v1/namespaces/${namespace}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels, annotations },
      spec: { nodeName: node, containers: [{ name: 'lab', image: 'lab' }] },
    });
    if (status === 409) throw new Error(`pod ${namespace}/${name} already exists in Kubernetes`);
    return body;
  }

  async createNetworkPolicy(namespace: string, policy: Record<string, unknown>): Promise<void> {
    await this.request('POST', `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies`, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      ...policy,
    });
  }

  async deleteNetworkPolicy(namespace: string, name: string): Promise<void> {
    await this.request('DELETE', `/apis/networking.k8s.io/v1/namespaces/${namespace}/networkpolicies/${name}`);
  }

  async readPod(namespace: string, name: string): Promise<KubePod> {
    return (await this.request<KubePod>('GET', `/api/v1/namespaces/${namespace}/pods/${name}`)).body;
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    const response = await fetch(`${this.url}/api/v1/namespaces/${namespace}/pods/${name}`, { method: 'DELETE' });
    if (!response.ok && response.status !== 404) throw new Error(`DELETE pod ${namespace}/${name}: ${response.status}`);
  }
}

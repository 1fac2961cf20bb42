// The pod annotation `k8s.v1.cni.cncf.io/networks` (the Network Plumbing Working Group's
// multi-network spec, v1.2 §4.1.2): a JSON list of network selection elements, or the short
// form `[namespace/]name[@interface],…`. Each element names a NetworkAttachmentDefinition and may
// ask for an interface name, a MAC and static IPs.

export const NETWORKS_ANNOTATION = 'k8s.v1.cni.cncf.io/networks';
export const NETWORK_STATUS_ANNOTATION = 'k8s.v1.cni.cncf.io/network-status';

export interface NetworkSelection {
  /** The NetworkAttachmentDefinition's name and namespace (the pod's when not given). */
  name: string;
  namespace: string;
  interface?: string;
  mac?: string;
  /** Addresses asked for, with or without a prefix length. */
  ips: string[];
}

export class NetworkSelectionError extends Error {}

const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;
const INTERFACE = /^[^\s/:]{1,15}$/;

function element(raw: unknown, podNamespace: string, index: number): NetworkSelection {
  const where = `${NETWORKS_ANNOTATION}[${index}]`;
  if (typeof raw !== 'object' || raw === null) throw new NetworkSelectionError(`${where}: expected an object`);
  const item = raw as Record<string, unknown>;
  if (typeof item.name !== 'string' || !NAME.test(item.name)) {
    throw new NetworkSelectionError(`${where}.name: expected the name of a NetworkAttachmentDefinition`);
  }
  const namespace = item.namespace ?? podNamespace;
  if (typeof namespace !== 'string' || !NAME.test(namespace)) {
    throw new NetworkSelectionError(`${where}.namespace: expected a namespace name`);
  }
  if (item.interface !== undefined && (typeof item.interface !== 'string' || !INTERFACE.test(item.interface))) {
    throw new NetworkSelectionError(`${where}.interface: expected an interface name of at most 15 characters`);
  }
  if (item.mac !== undefined && (typeof item.mac !== 'string' || !MAC.test(item.mac))) {
    throw new NetworkSelectionError(`${where}.mac: expected a MAC address such as 02:00:00:00:00:01`);
  }
  const ips = item.ips ?? [];
  if (!Array.isArray(ips) || ips.some((ip) => typeof ip !== 'string')) {
    throw new NetworkSelectionError(`${where}.ips: expected a list of addresses`);
  }
  return {
    name: item.name,
    namespace,
    ...(item.interface !== undefined ? { interface: item.interface as string } : {}),
    ...(item.mac !== undefined ? { mac: (item.mac as string).toLowerCase() } : {}),
    ips: ips as string[],
  };
}

/** The pod's extra networks in its order; none when the annotation is absent. */
export function parseNetworkSelection(value: string | undefined, podNamespace: string): NetworkSelection[] {
  if (value === undefined || value.trim() === '') return [];
  const text = value.trim();
  if (text.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new NetworkSelectionError(`${NETWORKS_ANNOTATION}: not valid JSON (${(error as Error).message})`);
    }
    return (parsed as unknown[]).map((item, index) => element(item, podNamespace, index));
  }
  return text.split(',').map((entry, index) => {
    const match = /^(?:([^/@\s]+)\/)?([^/@\s]+)(?:@([^/@\s]+))?$/.exec(entry.trim());
    if (!match)
      throw new NetworkSelectionError(
        `${NETWORKS_ANNOTATION}[${index}]: "${entry.trim()}" is not [namespace/]name[@interface]`,
      );
    return element({ namespace: match[1], name: match[2], interface: match[3] }, podNamespace, index);
  });
}

/** The Weft network a NetworkAttachmentDefinition's CNI config names, or undefined when it is not Weft's. */
export function weftNetworkOf(config: string | undefined): string | undefined {
  if (!config) return undefined;
  let parsed: { type?: string; network?: string; name?: string; plugins?: { type?: string; network?: string }[] };
  try {
    parsed = JSON.parse(config);
  } catch {
    return undefined;
  }
  const plugin = parsed.type === 'weft-cni' ? parsed : parsed.plugins?.find((item) => item.type === 'weft-cni');
  if (!plugin) return undefined;
  return plugin.network || parsed.name;
}

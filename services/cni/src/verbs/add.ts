// ADD: ask the agent for the pod's interfaces, create each one in the pod, have the agent
// attach its host end, and return one result with all of them. A failure midway removes every
// interface this call created before the error is returned.
import type { Attachment, PodInterfaces } from '../agent-client.js';
import { CniCode, CniError } from '../errors.js';
import type { CniResult } from '../netconf.js';
import { type CreatedInterface, createPodInterface, deleteHostInterface, netnsExists } from '../pod-network.js';
import type { VerbContext } from './context.js';

type PodInterface = PodInterfaces['interfaces'][number];

/** Names inside the pod: the default network gets CNI_IFNAME, the others net1… in order unless named. */
export function podInterfaceNames(interfaces: PodInterface[], defaultIfname: string, delegate: boolean): string[] {
  if (delegate) return interfaces.map(() => defaultIfname);
  let next = 1;
  const taken = new Set(interfaces.map((item) => item.name).filter(Boolean));
  return interfaces.map((item) => {
    if (item.is_default) return defaultIfname;
    if (item.name) return item.name;
    while (taken.has(`net${next}`) || `net${next}` === defaultIfname) next += 1;
    const name = `net${next}`;
    taken.add(name);
    return name;
  });
}

export async function add(context: VerbContext): Promise<CniResult> {
  const { netconf, pod, agent, log } = context;
  if (!netnsExists(context.netns)) {
    throw new CniError(CniCode.CONTAINER_UNKNOWN, `network namespace ${context.netns} does not exist`);
  }
  if (!pod.name && !pod.uid) {
    throw new CniError(
      CniCode.INVALID_ENVIRONMENT,
      'CNI_ARGS names no pod',
      'give K8S_POD_NAMESPACE and K8S_POD_NAME, or K8S_POD_UID',
    );
  }
  const delegate = netconf.network !== '';
  const found = await agent.podInterfaces(
    { namespace: pod.namespace, name: pod.name, uid: pod.uid, network: netconf.network },
    netconf.configWaitMs,
  );
  if (found.interfaces.length === 0) {
    throw new CniError(CniCode.TRY_AGAIN_LATER, `pod ${pod.namespace}/${pod.name} has no interfaces in config yet`);
  }
  const interfaces = delegate ? found.interfaces.slice(0, 1) : found.interfaces;
  const names = podInterfaceNames(interfaces, context.ifname, delegate);
  log.info({ pod, interfaces: interfaces.map((item, index) => [item.network, names[index]]) }, 'adding');

  const created: CreatedInterface[] = [];
  const attached: Attachment[] = [];
  try {
    for (const [index, item] of interfaces.entries()) {
      const ifname = names[index]!;
      const interfaceCreated = await createPodInterface(context.containerId, context.netns, {
        ifname,
        mac: item.mac,
        mtu: item.mtu,
        addresses: item.addresses.map((address) => address.cidr),
        routes: item.routes.map((route) => ({ destination: route.destination, gateway: route.gateway })),
      });
      created.push(interfaceCreated);
      attached.push(
        await agent.attach(
          {
            container_id: context.containerId,
            ifname,
            interface_uuid: item.interface_uuid,
            host_ifname: interfaceCreated.hostIfname,
            netns: context.netns,
          },
          netconf.configWaitMs,
        ),
      );
    }
  } catch (error) {
    log.warn({ err: error, created: created.map((item) => item.hostIfname) }, 'ADD failed; removing what it made');
    if (attached.length > 0) await agent.detach(context.containerId).catch(() => undefined);
    for (const item of created) await deleteHostInterface(item.hostIfname).catch(() => undefined);
    throw error;
  }
  return buildResult(netconf.cniVersion, context.netns, interfaces, names, created);
}

function buildResult(
  cniVersion: string,
  netns: string,
  interfaces: PodInterface[],
  names: string[],
  created: CreatedInterface[],
): CniResult {
  const result: Required<Pick<CniResult, 'interfaces' | 'ips' | 'routes'>> & CniResult = {
    cniVersion,
    interfaces: [],
    ips: [],
    routes: [],
    dns: {},
  };
  const nameservers = new Set<string>();
  for (const [index, item] of interfaces.entries()) {
    const host = created[index]!;
    result.interfaces.push({ name: host.hostIfname, mac: host.hostMac, mtu: item.mtu });
    const sandboxIndex =
      result.interfaces.push({ name: names[index]!, mac: host.sandboxMac, mtu: item.mtu, sandbox: netns }) - 1;
    for (const address of item.addresses) {
      result.ips.push({ address: address.cidr, gateway: address.gateway || undefined, interface: sandboxIndex });
    }
    for (const route of item.routes) result.routes.push({ dst: route.destination, gw: route.gateway || undefined });
    for (const server of item.dns_servers) nameservers.add(server);
  }
  if (nameservers.size > 0) result.dns = { nameservers: [...nameservers] };
  return result;
}

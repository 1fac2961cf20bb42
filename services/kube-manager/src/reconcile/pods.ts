// One pod → its config: a virtual-machine (uuid = the pod's uid, named "<namespace>/<name>" as
// weft-cni asks the agent for it), and per network — the default first, then each element of
// `k8s.v1.cni.cncf.io/networks` in order — a virtual-machine-interface bound to the pod's node
// with its name and order annotated, and an instance-ip. Level-based: it reads what config
// holds, changes only what differs, and writes the pod's network-status once every interface
// exists. A pod that is gone (or on the host network) has its objects removed.
import { HOST_BINDING_KEY, INTERFACE_NAME_ANNOTATION, INTERFACE_ORDER_ANNOTATION, keyValueOf } from '@weft/model';
import { type ConfigApi, ConfigApiError, type VncObject } from '../config/config-api.js';
import {
  NETWORK_STATUS_ANNOTATION,
  NETWORKS_ANNOTATION,
  type NetworkSelection,
  NetworkSelectionError,
  parseNetworkSelection,
  weftNetworkOf,
} from '../kube/network-selection.js';

/** Marks what the manager made, so that it removes only its own objects. */
export const OWNER_ANNOTATION = 'weft/kube-manager';
/** The name network-status gives the default network (the name of Weft's CNI config list). */
export const DEFAULT_NETWORK_NAME = 'weft';

export interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: { nodeName?: string; hostNetwork?: boolean };
  status?: { phase?: string };
}

/** A pod whose containers have all ended for good: it keeps no address, as Kubernetes frees its IP. */
function finished(pod: PodLike): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export interface AttachmentLike {
  spec?: { config?: string };
}

export interface PodSources {
  pod(namespace: string, name: string): PodLike | undefined;
  attachment(namespace: string, name: string): AttachmentLike | undefined;
  /** Merges these annotations into the pod's (metadata.annotations). */
  annotatePod(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  /** The project (fq_name) of a namespace, created when missing. */
  ensureProject(namespace: string): Promise<string[]>;
  /** The security groups (fq_names, sorted) the pod's default interface belongs in, each made when missing. */
  securityGroups(pod: PodLike): Promise<string[][]>;
}

interface DesiredInterface {
  ifname: string;
  order: number;
  network: string[];
  mac?: string;
  address?: string;
  /** The network's name in network-status: "weft" for the default, else "<namespace>/<attachment>". */
  statusName: string;
}

/** A problem that retrying does not fix: the pod's annotation or attachments must change first. */
export class PodSpecError extends Error {}

const kv = (pairs: Record<string, string>) => ({
  key_value_pair: Object.entries(pairs).map(([key, value]) => ({ key, value })),
});
const refName = (refs: unknown) => (refs as { to?: string[] }[] | undefined)?.[0]?.to?.join(':');

export function podObjectName(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class PodReconciler {
  constructor(
    private readonly config: ConfigApi,
    private readonly sources: PodSources,
    private readonly podNetwork: string[],
  ) {}

  /** The fq_name a network named in an attachment stands for. */
  networkName(name: string): string[] {
    return name.includes(':') ? name.split(':') : [...this.podNetwork.slice(0, -1), name];
  }

  desiredInterfaces(pod: PodLike): DesiredInterface[] {
    const namespace = pod.metadata!.namespace!;
    let selections: NetworkSelection[];
    try {
      selections = parseNetworkSelection(pod.metadata?.annotations?.[NETWORKS_ANNOTATION], namespace);
    } catch (error) {
      if (error instanceof NetworkSelectionError) throw new PodSpecError(error.message);
      throw error;
    }
    const wanted: DesiredInterface[] = [
      { ifname: 'eth0', order: 0, network: this.podNetwork, statusName: DEFAULT_NETWORK_NAME },
    ];
    for (const [index, selection] of selections.entries()) {
      const attachment = this.sources.attachment(selection.namespace, selection.name);
      if (!attachment) {
        // Retried: the attachment may be created after the pod, and its arrival queues the pod again.
        throw new Error(`NetworkAttachmentDefinition ${selection.namespace}/${selection.name} does not exist (yet)`);
      }
      const network = weftNetworkOf(attachment.spec?.config);
      if (!network) continue; // another plugin's network: not Weft's to set up
      const ifname = selection.interface ?? `net${index + 1}`;
      if (wanted.some((item) => item.ifname === ifname)) {
        throw new PodSpecError(`${NETWORKS_ANNOTATION}[${index}]: interface ${ifname} is asked for twice`);
      }
      wanted.push({
        ifname,
        order: wanted.length,
        network: this.networkName(network),
        ...(selection.mac ? { mac: selection.mac } : {}),
        ...(selection.ips[0] ? { address: selection.ips[0].split('/')[0]! } : {}),
        statusName: `${selection.namespace}/${selection.name}`,
      });
    }
    return wanted;
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    const pod = this.sources.pod(namespace, name);
    const vmName = podObjectName(namespace, name);
    const existing = await this.config.readByName('virtual-machine', [vmName]);
    const wanted = pod && !pod.spec?.hostNetwork && pod.spec?.nodeName && !finished(pod) ? pod : undefined;
    if (existing && (!wanted || existing.uuid !== wanted.metadata?.uid)) {
      // Gone, finished, on the host network, or a new pod of the same name: the old objects go first.
      if (keyValueOf(existing.annotations as never, OWNER_ANNOTATION) === undefined) {
        if (!wanted) return;
        // Someone else's virtual-machine holds the pod's name (an orchestrator by REST): retried until it goes.
        throw new Error(`virtual-machine ${vmName} exists and was not made by kube-manager`);
      }
      await this.teardown(existing);
      if (!wanted) return;
      return this.reconcile(namespace, name);
    }
    if (!wanted) return;

    const desired = this.desiredInterfaces(wanted);
    const project = await this.sources.ensureProject(namespace);
    const vm =
      existing ??
      (await this.config.create('virtual-machine', {
        uuid: wanted.metadata!.uid,
        fq_name: [vmName],
        display_name: vmName,
        annotations: kv({ [OWNER_ANNOTATION]: 'pod' }),
      }));
    const actual = await this.interfacesOf(vm);
    const status: Record<string, unknown>[] = [];
    for (const item of desired) {
      const fqName = [...project, `${namespace}__${name}__${item.ifname}`];
      const found = actual.find((entry) => entry.vmi.fq_name.join(':') === fqName.join(':'));
      const converged = await this.convergeInterface(vm, item, fqName, wanted.spec!.nodeName!, found);
      if (item.order === 0) await this.convergeGroups(converged.vmi, await this.sources.securityGroups(wanted));
      status.push({
        name: item.statusName,
        interface: item.ifname,
        ips: converged.addresses,
        mac: converged.mac,
        ...(item.order === 0 ? { default: true } : {}),
        dns: {},
      });
    }
    for (const entry of actual) {
      if (!desired.some((item) => entry.vmi.fq_name.at(-1) === `${namespace}__${name}__${item.ifname}`)) {
        await this.removeInterface(entry);
      }
    }
    await this.writeStatus(wanted, status);
  }

  async interfacesOf(vm: VncObject): Promise<{ vmi: VncObject; ips: VncObject[] }[]> {
    const refs = (vm.virtual_machine_interface_back_refs as { uuid: string }[] | undefined) ?? [];
    const found: { vmi: VncObject; ips: VncObject[] }[] = [];
    for (const ref of refs) {
      const vmi = await this.config.read('virtual-machine-interface', ref.uuid);
      if (!vmi) continue;
      const ips: VncObject[] = [];
      for (const ipRef of (vmi.instance_ip_back_refs as { uuid: string }[] | undefined) ?? []) {
        const ip = await this.config.read('instance-ip', ipRef.uuid);
        if (ip) ips.push(ip);
      }
      found.push({ vmi, ips });
    }
    return found;
  }

  async convergeInterface(
    vm: VncObject,
    item: DesiredInterface,
    fqName: string[],
    node: string,
    found: { vmi: VncObject; ips: VncObject[] } | undefined,
  ): Promise<{ addresses: string[]; mac: string; vmi: VncObject }> {
    let entry = found;
    const macOf = (vmi: VncObject) =>
      (vmi.virtual_machine_interface_mac_addresses as { mac_address?: string[] } | undefined)?.mac_address?.[0] ?? '';
    if (
      entry &&
      (refName(entry.vmi.virtual_network_refs) !== item.network.join(':') ||
        (item.mac && macOf(entry.vmi) !== item.mac))
    ) {
      // A different network or MAC is a different interface: replaced, not edited.
      await this.removeInterface(entry);
      entry = undefined;
    }
    const bindings = { [HOST_BINDING_KEY]: node };
    const annotations = {
      [INTERFACE_NAME_ANNOTATION]: item.ifname,
      [INTERFACE_ORDER_ANNOTATION]: String(item.order),
      [OWNER_ANNOTATION]: 'pod',
    };
    if (!entry) {
      const vmi = await this.config.create('virtual-machine-interface', {
        fq_name: fqName,
        parent_type: 'project',
        virtual_network_refs: [{ to: item.network }],
        virtual_machine_refs: [{ to: vm.fq_name, uuid: vm.uuid }],
        virtual_machine_interface_bindings: kv(bindings),
        annotations: kv(annotations),
        ...(item.mac ? { virtual_machine_interface_mac_addresses: { mac_address: [item.mac] } } : {}),
      });
      // config-api answers a create with the whole object, its allocated MAC included.
      entry = { vmi, ips: [] };
    } else {
      const vmi = entry.vmi as { virtual_machine_interface_bindings?: never; annotations?: never };
      const same =
        keyValueOf(vmi.virtual_machine_interface_bindings, HOST_BINDING_KEY) === node &&
        Object.entries(annotations).every(([key, value]) => keyValueOf(vmi.annotations, key) === value);
      if (!same) {
        await this.config.update('virtual-machine-interface', entry.vmi.uuid, {
          virtual_machine_interface_bindings: kv(bindings),
          annotations: kv(annotations),
        });
      }
    }
    let ips = entry.ips;
    const wrong = ips.filter((ip) => item.address !== undefined && ip.instance_ip_address !== item.address);
    for (const ip of wrong) await this.config.remove('instance-ip', ip.uuid);
    ips = ips.filter((ip) => !wrong.includes(ip));
    if (ips.length === 0) {
      const created = await this.config.create('instance-ip', {
        fq_name: [entry.vmi.fq_name.at(-1)!],
        virtual_network_refs: [{ to: item.network }],
        virtual_machine_interface_refs: [{ to: entry.vmi.fq_name, uuid: entry.vmi.uuid }],
        annotations: kv({ [OWNER_ANNOTATION]: 'pod' }),
        ...(item.address ? { instance_ip_address: item.address } : {}),
      });
      ips = [created];
    }
    return { addresses: ips.map((ip) => String(ip.instance_ip_address)), mac: macOf(entry.vmi), vmi: entry.vmi };
  }

  /** Puts the interface in exactly these security groups (NetworkPolicy); writes nothing when it is. */
  async convergeGroups(vmi: VncObject, groups: string[][]): Promise<void> {
    const names = (list: string[][]) =>
      list
        .map((fq) => fq.join(':'))
        .sort()
        .join(',');
    const current = ((vmi.security_group_refs as { to: string[] }[] | undefined) ?? []).map((ref) => ref.to);
    if (names(current) === names(groups)) return;
    await this.config.update('virtual-machine-interface', vmi.uuid, {
      security_group_refs: groups.map((to) => ({ to })),
    });
  }

  async removeInterface(entry: { vmi: VncObject; ips: VncObject[] }): Promise<void> {
    for (const ip of entry.ips) await this.config.remove('instance-ip', ip.uuid);
    await this.config.remove('virtual-machine-interface', entry.vmi.uuid);
  }

  /** Removes a pod's objects: addresses, interfaces, then the virtual-machine (last, so a crash midway leaves it to be found). */
  async teardown(vm: VncObject): Promise<void> {
    const current = (await this.config.read('virtual-machine', vm.uuid)) ?? vm;
    for (const entry of await this.interfacesOf(current)) await this.removeInterface(entry);
    try {
      await this.config.remove('virtual-machine', vm.uuid);
    } catch (error) {
      // Another interface appeared meanwhile (someone else's): retried from the start.
      if (error instanceof ConfigApiError && error.status === 409)
        throw new Error(`${vm.fq_name.join(':')} is still in use`);
      throw error;
    }
  }

  async writeStatus(pod: PodLike, status: Record<string, unknown>[]): Promise<void> {
    const current = pod.metadata?.annotations?.[NETWORK_STATUS_ANNOTATION];
    let same = false;
    try {
      same = current !== undefined && JSON.stringify(JSON.parse(current)) === JSON.stringify(status);
    } catch {}
    if (same) return;
    await this.sources.annotatePod(pod.metadata!.namespace!, pod.metadata!.name!, {
      [NETWORK_STATUS_ANNOTATION]: JSON.stringify(status, null, 2),
    });
  }
}

// The kernel side of one pod interface: a veth pair whose host end stays in the host's
// namespace (for the agent to attach to the datapath) and whose other end moves into the pod,
// named, addressed and routed there. It uses iproute2, entering the pod's namespace with
// nsenter, since a Node.js process cannot switch network namespace itself.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { CniCode, CniError } from './errors.js';

const run = promisify(execFile);

export interface PodInterfaceSpec {
  /** Name inside the pod. */
  ifname: string;
  mac: string;
  mtu: number;
  /** Addresses with prefix length. */
  addresses: string[];
  routes: { destination: string; gateway: string }[];
}

export interface CreatedInterface {
  hostIfname: string;
  hostMac: string;
  sandboxMac: string;
}

/** A host device name unique per container and pod interface, within the kernel's 15 characters. */
export function hostIfnameFor(containerId: string, ifname: string): string {
  return `wf${createHash('sha256').update(`${containerId}/${ifname}`).digest('hex').slice(0, 11)}`;
}

async function ip(args: string[], netns?: string): Promise<string> {
  const [command, fullArgs] = netns ? ['nsenter', [`--net=${netns}`, 'ip', ...args]] : ['ip', args];
  try {
    const { stdout } = await run(command, fullArgs as string[]);
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? String(error);
    throw new CniError(CniCode.IO_FAILURE, `ip ${args.join(' ')} failed`, stderr, { cause: error });
  }
}

async function linkMac(ifname: string, netns?: string): Promise<string> {
  const [link] = JSON.parse(await ip(['-j', 'link', 'show', 'dev', ifname], netns)) as { address: string }[];
  return link?.address ?? '';
}

export function netnsExists(netns: string): boolean {
  return netns !== '' && existsSync(netns);
}

/** Creates the pair and configures the pod end; on failure removes what it made, then throws. */
export async function createPodInterface(
  containerId: string,
  netns: string,
  spec: PodInterfaceSpec,
): Promise<CreatedInterface> {
  const hostIfname = hostIfnameFor(containerId, spec.ifname);
  // The pod end is born inside the pod under a temporary name, so it never collides with a
  // host device, then takes its real name there.
  const temporary = `wt${hostIfname.slice(2)}`;
  await ip([
    'link',
    'add',
    hostIfname,
    'mtu',
    String(spec.mtu),
    'type',
    'veth',
    'peer',
    'name',
    temporary,
    'mtu',
    String(spec.mtu),
    'netns',
    netns,
  ]);
  try {
    await ip(['link', 'set', 'dev', temporary, 'name', spec.ifname, 'address', spec.mac], netns);
    for (const address of spec.addresses) {
      // IPv6 duplicate address detection would hold the address back for a second or more.
      const extra = address.includes(':') ? ['nodad'] : [];
      await ip(['addr', 'add', address, 'dev', spec.ifname, ...extra], netns);
    }
    await ip(['link', 'set', 'dev', spec.ifname, 'up'], netns);
    await ip(['link', 'set', 'dev', 'lo', 'up'], netns);
    for (const route of spec.routes) {
      const via = route.gateway ? ['via', route.gateway] : [];
      // onlink: the gateway is the datapath's virtual address, answered by it, not a neighbour.
      const onlink = route.gateway ? ['onlink'] : [];
      await ip(['route', 'replace', route.destination, ...via, 'dev', spec.ifname, ...onlink], netns);
    }
    await ip(['link', 'set', 'dev', hostIfname, 'up']);
    return { hostIfname, hostMac: await linkMac(hostIfname), sandboxMac: await linkMac(spec.ifname, netns) };
  } catch (error) {
    await deleteHostInterface(hostIfname);
    throw error;
  }
}

/** Deletes the host end (the kernel deletes its peer); nothing to delete is not an error. */
export async function deleteHostInterface(hostIfname: string): Promise<void> {
  try {
    await run('ip', ['link', 'del', 'dev', hostIfname]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    if (!/Cannot find device|does not exist/.test(stderr)) {
      throw new CniError(CniCode.IO_FAILURE, `ip link del ${hostIfname} failed`, stderr.trim(), { cause: error });
    }
  }
}

export interface ObservedInterface {
  mac: string;
  addresses: string[];
}

/** What the pod's namespace has under `ifname` now, or undefined when it is gone. */
export async function observePodInterface(netns: string, ifname: string): Promise<ObservedInterface | undefined> {
  if (!netnsExists(netns)) return undefined;
  try {
    const { stdout } = await run('nsenter', [`--net=${netns}`, 'ip', '-j', 'addr', 'show', 'dev', ifname]);
    const [link] = JSON.parse(stdout) as {
      address: string;
      addr_info: { local: string; prefixlen: number; scope: string }[];
    }[];
    if (!link) return undefined;
    const addresses = link.addr_info
      .filter((info) => info.scope !== 'link')
      .map((info) => `${info.local}/${info.prefixlen}`);
    return { mac: link.address, addresses };
  } catch {
    return undefined;
  }
}

export async function hostInterfaceExists(hostIfname: string): Promise<boolean> {
  try {
    await run('ip', ['link', 'show', 'dev', hostIfname]);
    return true;
  } catch {
    return false;
  }
}

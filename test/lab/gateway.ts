// The lab's gateway router: Debian's FRR (zebra and bgpd) in a namespace of its own, between
// the underlay and the outside. It peers with control's speaker (gobgpd, in the machine's own
// namespace at the controller's address, which connects to it), takes every floating IP and
// every pod of a network routed to the outside as a /32 via the host that holds it, installs
// those routes in its kernel (zebra) and offers Weft a default route and the outside network.
// FRR runs as its own instance (-N, a path space named after the namespace), so that labs side
// by side keep their sockets apart; `vtysh -N` reaches it.
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@weft/kit/testing';
import { type LabProcess, startProcess } from './processes.js';
import { inNs, sh } from './shell.js';
import { LAB_WEFT_ASN, type LabGateway, type Topology } from './topology.js';

const FRR_DAEMONS = '/usr/lib/frr';

export function frrMissing(): string | undefined {
  try {
    sh(join(FRR_DAEMONS, 'bgpd'), ['--version']);
    return undefined;
  } catch {
    return 'FRR is not installed (deploy/setup.mjs test or lab installs Debian’s frr)';
  }
}

/** FRR's configuration of the gateway: BGP with Weft, graceful restart, the outside offered. */
export function frrConfig(topology: Topology, gateway: LabGateway): string {
  return [
    'frr defaults datacenter',
    `hostname ${gateway.netns}`,
    'log stdout informational',
    `router bgp ${gateway.asn}`,
    ` bgp router-id ${gateway.underlayAddress}`,
    // The lab's policy is to take what Weft says: a real gateway filters by prefix lists here.
    ' no bgp ebgp-requires-policy',
    ' bgp graceful-restart',
    ` neighbor ${topology.controllerAddress} remote-as ${LAB_WEFT_ASN}`,
    ` neighbor ${topology.controllerAddress} description weft`,
    ` neighbor ${topology.controllerAddress} timers connect 5`,
    ' address-family ipv4 unicast',
    '  redistribute connected',
    // A default route for Weft's networks routed to the outside, as a data-centre gateway gives.
    `  neighbor ${topology.controllerAddress} default-originate`,
    ' exit-address-family',
    '',
  ].join('\n');
}

/** Starts zebra, then bgpd, in the gateway's namespace (logs under dir); returns them for the lab to stop. */
export async function startGateway(topology: Topology, gateway: LabGateway, dir: string): Promise<LabProcess[]> {
  // Sockets, pid files and the configuration of this instance (-N): FRR drops to its own user,
  // which must own them (the lab's directory may be a private temporary one).
  const runDir = `/var/run/frr/${gateway.netns}`;
  mkdirSync(runDir, { recursive: true });
  const conf = join(runDir, 'frr.conf');
  writeFileSync(conf, frrConfig(topology, gateway));
  const frr = Number(sh('id', ['-u', 'frr']).trim());
  const frrGroup = Number(sh('id', ['-g', 'frr']).trim());
  chownSync(runDir, frr, frrGroup);
  chownSync(conf, frr, frrGroup);
  const started: LabProcess[] = [];
  for (const daemon of ['zebra', 'bgpd']) {
    const args = ['-N', gateway.netns, '-f', conf, '-u', 'frr', '-g', 'frr'];
    started.push(
      startProcess(`${daemon}-${gateway.netns}`, join(FRR_DAEMONS, daemon), args, {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        logDir: join(dir, 'logs'),
        netns: gateway.netns,
      }),
    );
    await waitFor(() => vtyshAnswers(gateway, daemon), {
      timeoutMs: 20_000,
      what: `FRR ${daemon} of ${gateway.netns}`,
    });
  }
  return started;
}

function vtyshAnswers(gateway: LabGateway, daemon: string): boolean {
  try {
    vtysh(gateway, daemon === 'zebra' ? 'show interface brief' : 'show bgp summary');
    return true;
  } catch {
    return false;
  }
}

/** One vtysh command on the gateway (e.g. `show ip bgp`), its output. */
export function vtysh(gateway: LabGateway, command: string): string {
  return inNs(gateway.netns, 'vtysh', ['-N', gateway.netns, '-c', command]);
}

/** The gateway's BGP table for IPv4 unicast, as FRR's JSON says it: prefix → next hops. */
export function gatewayRoutes(gateway: LabGateway): Map<string, string[]> {
  const json = JSON.parse(vtysh(gateway, 'show ip bgp json')) as {
    routes?: Record<string, Array<{ nexthops?: Array<{ ip: string }> }>>;
  };
  const routes = new Map<string, string[]>();
  for (const [prefix, paths] of Object.entries(json.routes ?? {})) {
    routes.set(
      prefix,
      paths.flatMap((path) => (path.nexthops ?? []).map((hop) => hop.ip)),
    );
  }
  return routes;
}

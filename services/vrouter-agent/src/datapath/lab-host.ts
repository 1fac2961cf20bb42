// Programs one lab host's datapath and exits, leaving it forwarding (programs attached, maps
// pinned): the datapath half of an agent, for tests that build hosts as network namespaces.
// Run it inside the host's namespace with `nsenter --net=…` (which keeps the shared bpffs):
//
//   nsenter --net=/var/run/netns/host-a node dist/datapath/lab-host.js program SPEC.json
//   nsenter --net=/var/run/netns/host-a node dist/datapath/lab-host.js cleanup PIN_ROOT
//
// SPEC is a LabHostSpec: the host's underlay, its pod ports, and the host view as control
// would send it. Device maps and XDP attachments resolve ifindexes in the caller's network
// namespace, which is why this runs inside the host's and not in the test's.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLogger } from '@weft/kit';
import type { HostView } from '../host-state/host-state.js';
import type { AccessControlList, Interface, NextHop, RoutingInstance } from '../host-state/snapshot.js';
import type { PortRecord } from '../ports/port-store.js';
import { cleanupHost } from './cleanup.js';
import { type DatapathMode, HostDatapath } from './host-datapath.js';

export interface LabHostSpec {
  pinRoot: string;
  /** Which programs carry pod traffic (HostDatapath's default when absent). */
  mode?: DatapathMode;
  underlayDevice: string;
  underlayAddress: string;
  ports: PortRecord[];
  routingInstances: RoutingInstance[];
  interfaces: Interface[];
  acls: AccessControlList[];
  /** routing instance → prefix → next hop */
  routes: Record<string, Record<string, NextHop>>;
}

export function hostView(spec: LabHostSpec): HostView {
  return {
    routingInstances: new Map(spec.routingInstances.map((ri) => [ri.name, ri])),
    interfaces: new Map(spec.interfaces.map((iface) => [iface.uuid, iface])),
    acls: new Map(spec.acls.map((acl) => [acl.name, acl])),
    routes: new Map(Object.entries(spec.routes).map(([ri, table]) => [ri, new Map(Object.entries(table))])),
  };
}

export async function programLabHost(spec: LabHostSpec): Promise<void> {
  const logger = createLogger({ service: 'vrouter-agent', level: 'warn' });
  const datapath = new HostDatapath({
    hostName: 'lab',
    pinRoot: spec.pinRoot,
    underlayDevice: spec.underlayDevice,
    underlayAddress: spec.underlayAddress,
    logger,
    ...(spec.mode ? { mode: spec.mode } : {}),
  });
  await datapath.start();
  const view = hostView(spec);
  for (const port of spec.ports) {
    const iface = view.interfaces.get(port.interface_uuid);
    if (iface) await datapath.attachPort(port, iface);
  }
  await datapath.reconcile(view, spec.ports);
  await datapath.stop();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [command, argument = ''] = process.argv.slice(2);
  const done =
    command === 'program'
      ? programLabHost(JSON.parse(readFileSync(argument, 'utf8')) as LabHostSpec)
      : command === 'cleanup'
        ? cleanupHost(argument).then((report) => process.stdout.write(`${JSON.stringify(report)}\n`))
        : Promise.reject(new Error('usage: lab-host.js program SPEC.json | cleanup PIN_ROOT'));
  done.catch((error: Error) => {
    process.stderr.write(`lab-host: ${error.message}\n`);
    process.exit(1);
  });
}

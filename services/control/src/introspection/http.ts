// The introspection API on the HTTP port: what this replica compiled and what it knows of each
// agent, read-only, as JSON.
import { isIP } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { AgentHub } from '../agents/hub.js';
import type { BgpAdvertiser } from '../bgp/advertiser.js';
import type { ConfigFeed } from '../config-feed/feed.js';
import { errors } from '../errors.js';

export function registerIntrospection(
  app: FastifyInstance,
  hub: AgentHub,
  feed: ConfigFeed,
  bgp?: BgpAdvertiser,
): void {
  // BGP with the gateways: the sessions, what is advertised and what was learnt.
  app.get('/bgp', async () => bgp?.status() ?? { speaker: null });

  app.get('/routing-instances', async () => {
    const state = hub.state;
    return {
      config_revision: feed.revision,
      routing_instances: [...state.routingInstances.values()].map((instance) => ({
        ...instance.message,
        imports: instance.imports,
        routes: hub.routes.countOf(instance.name),
        hosts: [...(state.hostsOf.get(instance.name) ?? [])].sort(),
      })),
    };
  });

  app.get<{ Querystring: { vrf?: string } }>(
    '/routes',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { vrf: { type: 'string', minLength: 1, description: 'routing instance name or VRF id' } },
          required: ['vrf'],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const vrf = request.query.vrf!;
      const state = hub.state;
      const instance =
        state.routingInstances.get(vrf) ??
        (/^\d+$/.test(vrf)
          ? [...state.routingInstances.values()].find((i) => i.message.vrf_id === Number(vrf))
          : undefined);
      if (!instance) throw errors.NO_SUCH_ROUTING_INSTANCE({ field: 'vrf', value: vrf });
      const routes = [];
      for (const origin of [instance.name, ...instance.imports]) {
        const vni = state.routingInstances.get(origin)?.vni ?? 0;
        for (const [prefix, port] of hub.routes.instance(origin)) {
          if (origin !== instance.name && hub.routes.get(instance.name, prefix)) continue;
          routes.push({
            prefix,
            origin_routing_instance: origin,
            interface_uuid: port.interfaceUuid,
            host: port.host,
            next_hop: { tunnel: { underlay_address: port.underlay, vni, mac: port.mac } },
          });
        }
      }
      routes.sort((a, b) => familyOrder(a.prefix) - familyOrder(b.prefix) || a.prefix.localeCompare(b.prefix));
      return { routing_instance: instance.name, vrf_id: instance.message.vrf_id, routes };
    },
  );

  app.get('/agents', async () => ({
    agents: hub.agents().map((record) => {
      const session = hub.sessions.get(record.host);
      return {
        ...record,
        interfaces: hub.state.hosts.get(record.host)?.interfaces.size ?? 0,
        ports_up: hub.ports.ofHost(record.host).length,
        // Headless past the hold time (staleSince, staleUntil): the routes its peers still get.
        stale_routes: record.staleSince === undefined ? 0 : hub.routesOfHost(record.host),
        session: session && {
          seq: session.seq,
          acked: session.acked,
          queue_depth: session.outbox.depth,
          messages_out: session.messagesOut,
          end_of_config_sent: session.endOfConfigSent,
          end_of_routes_sent: session.endOfRoutesSent,
          reported: session.reported,
        },
      };
    }),
  }));

  app.get('/acls', async () => ({ acls: [...hub.state.acls.values()] }));
}

function familyOrder(prefix: string): number {
  return isIP(prefix.split('/')[0]!);
}

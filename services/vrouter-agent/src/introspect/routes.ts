// The agent's introspection on its HTTP port: GET /host-state (what it holds from control),
// GET /datapath (datapath-view.ts), POST /probe (a packet from one of this host's pods) and
// POST /probe/tunnel (a frame arriving from another host), both in src/probe/probe.ts. All of
// them want a cloud-admin token: they show every tenant's ports and routes, and a probe runs
// packets of the caller's making through the datapath. /healthz, /readyz and /metrics stay open,
// as on every daemon.
import { type Authenticator, authErrors, authenticateRequests, type Identity, isCloudAdmin } from '@weft/kit';
import type { FastifyInstance } from 'fastify';
import { errors } from '../errors.js';
import type { HostView } from '../host-state/host-state.js';
import type { PortRecord } from '../ports/port-store.js';
import { type PortProbeRequest, probeFromPort, probeFromTunnel, type TunnelProbeRequest } from '../probe/probe.js';
import { datapathView } from './datapath-view.js';
import type { DatapathInspection } from './inspection.js';

export interface IntrospectionSource {
  view(): HostView;
  ports(): PortRecord[];
  inspect(): DatapathInspection | undefined;
}

/** Introspection is the operator's: a token without the cloud-admin role is refused, naming it. */
function cloudAdminOnly(identity: Identity): void {
  if (!isCloudAdmin(identity)) {
    throw authErrors.FORBIDDEN({ user: identity.user, action: "use the agent's introspection (cloud-admin only)" });
  }
}

/** Every introspection route, behind the caller's token (see the top of this file). */
export function registerIntrospection(
  app: FastifyInstance,
  source: IntrospectionSource & { hostState(): unknown },
  authenticator: Authenticator,
): void {
  authenticateRequests(app, authenticator, { authorize: cloudAdminOnly });
  app.get('/host-state', async () => source.hostState());
  registerDatapathIntrospection(app, source);
}

function registerDatapathIntrospection(app: FastifyInstance, source: IntrospectionSource): void {
  const loaded = () => {
    const inspection = source.inspect();
    if (!inspection) throw errors.DATAPATH_UNAVAILABLE({ reason: 'the datapath is not loaded' });
    return inspection;
  };
  app.get('/datapath', async () => datapathView(loaded(), source.view(), source.ports()));
  app.post<{ Body: PortProbeRequest }>(
    '/probe',
    {
      schema: {
        body: {
          type: 'object',
          required: ['interface_uuid', 'destination'],
          additionalProperties: false,
          properties: {
            interface_uuid: { type: 'string', minLength: 1 },
            destination: { type: 'string', minLength: 1 },
            protocol: { enum: ['icmp', 'tcp', 'udp'], default: 'icmp' },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
          },
        },
      },
    },
    async (request) => probeFromPort(loaded(), source.view(), request.body),
  );
  app.post<{ Body: TunnelProbeRequest }>(
    '/probe/tunnel',
    {
      schema: {
        body: {
          type: 'object',
          required: ['frame', 'vni', 'from', 'flow'],
          additionalProperties: false,
          properties: {
            frame: { type: 'string', pattern: '^([0-9a-f]{2})+$' },
            vni: { type: 'integer', minimum: 1, maximum: 16777215 },
            from: { type: 'string', format: 'ipv4' },
            flow: { type: 'object' },
          },
        },
      },
    },
    async (request) => probeFromTunnel(loaded(), source.view(), request.body),
  );
}

// The agent's read-only view of its datapath and its probe endpoints, on the HTTP port beside
// /host-state: GET /datapath (datapath-view.ts), POST /probe (a packet from one of this host's
// pods) and POST /probe/tunnel (a frame arriving from another host), both in src/probe/probe.ts.
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

export function registerDatapathIntrospection(app: FastifyInstance, source: IntrospectionSource): void {
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

// Every option of weft-control, declared once: main.ts reads them, --help and the README's table
// are made from them, and the chart, the local stack, the image runner and the lab are checked
// against them (test/e2e/options.test.ts, test/e2e/charts.test.ts).
import { isIPv4 } from 'node:net';
import { hostname } from 'node:os';
import { commonOptions, configApiTokenOptions, type OptionSpec, option } from '@weft/kit';

/** host:port, with an IPv6 host in brackets. */
function address(env: string, description: string, defaultValue: string): OptionSpec<string> {
  return {
    env,
    description,
    default: defaultValue,
    expected: 'host:port, e.g. 127.0.0.1:8090 or [::1]:8090',
    parse: (raw) => {
      const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(raw.trim());
      return match && Number(match[2]) > 0 && Number(match[2]) <= 65535 ? raw.trim() : undefined;
    },
  };
}

/** Empty, or what `parse` takes. */
function optional<T>(spec: OptionSpec<T>, empty: T): OptionSpec<T> {
  return { ...spec, default: empty, parse: (raw) => (raw.trim() === '' ? empty : spec.parse(raw)) };
}

/** BGP peers as address:asn, comma-separated. */
function bgpPeers(env: string, description: string): OptionSpec<Array<{ address: string; asn: number }>> {
  return {
    env,
    description,
    default: [],
    expected: 'a comma-separated list of IPv4address:asn, e.g. 10.255.0.1:64500',
    parse: (raw) => {
      const peers = [];
      for (const item of raw
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean)) {
        const match = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,10})$/.exec(item);
        if (!match || !isIPv4(match[1]!) || Number(match[2]) < 1 || Number(match[2]) > 4294967295) return undefined;
        peers.push({ address: match[1]!, asn: Number(match[2]) });
      }
      return peers;
    },
  };
}

export const controlOptions = {
  configApiGrpc: address('WEFT_CONFIG_API_GRPC', "host:port of config-api's gRPC Config service", '127.0.0.1:8090'),
  ...configApiTokenOptions('control'),
  agentPort: option.port('WEFT_CONTROL_AGENT_PORT', 'gRPC port agents connect to', 5269, { listen: 'tcp' }),
  httpPort: option.port('WEFT_CONTROL_HTTP_PORT', 'HTTP port for health, metrics and introspection', 8083, {
    listen: 'tcp',
  }),
  host: option.required('WEFT_CONTROL_HOST', 'address to listen on', '0.0.0.0'),
  agentHoldTime: option.duration(
    'WEFT_CONTROL_AGENT_HOLD_TIME',
    "how long a disconnected agent's routes stay as they are; past it they are stale (WEFT_CONTROL_AGENT_STALE_TIME)",
    30_000,
  ),
  // An hour: a partition of the control network (maintenance, a lost switch) lasts minutes, and
  // the pods behind a headless agent still run and still answer. A host that died does not need
  // it: the orchestrator moves or deletes its pods in config (Kubernetes evicts after 5 minutes),
  // and a route goes as soon as config takes its interface away. The stale time only bounds how
  // long a dead host whose pods nobody deletes keeps drawing traffic that it cannot answer.
  agentStaleTime: option.duration(
    'WEFT_CONTROL_AGENT_STALE_TIME',
    "how long a disconnected agent's routes stay past the hold time, as stale, so that its peers keep forwarding to its pods while it runs headless; then they are withdrawn (0: at the end of the hold time)",
    3_600_000,
  ),
  agentIdentity: option.oneOf(
    'WEFT_CONTROL_AGENT_IDENTITY',
    "how an agent's host name is proven: certificate (with WEFT_TLS_CA, the hello must name a host of the client certificate) or hello (believed: agents that share one certificate)",
    ['certificate', 'hello'] as const,
    'certificate',
  ),
  name: {
    ...option.required('WEFT_CONTROL_NAME', 'name of this replica in UVEs', hostname()),
    shownDefault: 'the host name',
  },
  bgpSpeaker: optional(address('WEFT_CONTROL_BGP_SPEAKER', "host:port of gobgpd's gRPC API; empty for no BGP", ''), ''),
  bgpAsn: option.integer('WEFT_CONTROL_BGP_ASN', 'autonomous system number Weft speaks BGP as', 64512, 1, 4294967295),
  bgpRouterId: {
    env: 'WEFT_CONTROL_BGP_ROUTER_ID',
    description: 'BGP router id; needed with a speaker',
    default: '',
    expected: 'an IPv4 address',
    parse: (raw: string) => (raw.trim() === '' || isIPv4(raw.trim()) ? raw.trim() : undefined),
  } satisfies OptionSpec<string>,
  bgpPeers: bgpPeers('WEFT_CONTROL_BGP_PEERS', 'the gateways to peer with, address:asn each'),
  bgpRestartTime: option.duration(
    'WEFT_CONTROL_BGP_RESTART_TIME',
    "graceful restart time offered to the gateways: how long they keep Weft's routes while its speaker restarts",
    120_000,
  ),
};

/** Everything weft-control takes: the kit's common options and its own. */
export const declaredOptions = { ...commonOptions, ...controlOptions };

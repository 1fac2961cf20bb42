// Every option of the vrouter-agent (besides the kit's common ones), declared once (checked
// against the README, the image, the chart and the lab by test/e2e), with defaults that work on
// one machine: control on loopback, the underlay on the device of the default route.
import { hostname } from 'node:os';
import { authOptions, commonOptions, option } from '@weft/kit';

export const agentOptions = {
  hostName: {
    ...option.required('WEFT_AGENT_HOST_NAME', "this host's virtual-router name", hostname()),
    shownDefault: 'the host name',
  },
  underlayDevice: option.string(
    'WEFT_AGENT_UNDERLAY_DEVICE',
    'device tunnels leave and arrive on; empty for the device of the default route',
    '',
  ),
  underlayAddress: option.string(
    'WEFT_AGENT_UNDERLAY_ADDRESS',
    "this host's tunnel endpoint address; empty for the underlay device's first IPv4 address",
    '',
  ),
  control: option.list('WEFT_AGENT_CONTROL', 'host:port of every control replica', ['127.0.0.1:5269']),
  httpHost: option.required(
    'WEFT_AGENT_HTTP_HOST',
    'listen address for health, metrics and introspection',
    '127.0.0.1',
  ),
  httpPort: option.port('WEFT_AGENT_HTTP_PORT', 'HTTP port for health, metrics and introspection', 8085, {
    listen: 'tcp',
  }),
  cniSocket: option.required('WEFT_AGENT_CNI_SOCKET', 'unix socket the CNI plugin calls', '/run/weft/agent.sock'),
  cniDeleteQueue: option.required(
    'WEFT_AGENT_CNI_DELETE_QUEUE',
    "directory where weft-cni queues pod deletions while the agent cannot answer (the plugin's deleteQueue)",
    '/run/weft/delete-queue',
  ),
  bpffsDir: option.string('WEFT_AGENT_BPFFS_DIR', 'where maps are pinned; empty for /sys/fs/bpf/weft/<host name>', ''),
  datapathMode: option.oneOf(
    'WEFT_AGENT_DATAPATH_MODE',
    'tc keeps GSO and checksum offload (measured faster, see README); xdp forwards in the driver',
    ['tc', 'xdp'] as const,
    'tc',
  ),
  underlayStage: option.oneOf(
    'WEFT_AGENT_UNDERLAY_STAGE',
    'tc mode: where the first stage for traffic from other hosts runs (drops unknown peers and VNIs and denied flows); auto: xdp on a physical NIC, tc on virtual and paravirtual devices',
    ['auto', 'xdp', 'xdp-generic', 'tc', 'off'] as const,
    'auto',
  ),
  tunnelDevice: option.required('WEFT_AGENT_TUNNEL_DEVICE', 'the VXLAN device of tc mode', 'weft-vxlan'),
  tunnelPort: option.port('WEFT_AGENT_TUNNEL_PORT', 'UDP port of VXLAN on the underlay', 4789, { listen: 'udp' }),
  flowSampleRate: option.integer(
    'WEFT_AGENT_FLOW_SAMPLE_RATE',
    'sample one packet in N for flow records (new flows always)',
    64,
    0,
    1_000_000,
  ),
  flowExportInterval: option.duration(
    'WEFT_AGENT_FLOW_EXPORT_INTERVAL',
    'how often flow records go to analytics',
    2_000,
  ),
  // Who may use the introspection (host state, datapath, probes): cloud-admin tokens, checked as
  // config-api and analytics check them.
  ...authOptions,
};

/** Everything weft-vrouter-agent takes: the kit's common options and its own. */
export const declaredOptions = { ...commonOptions, ...agentOptions };

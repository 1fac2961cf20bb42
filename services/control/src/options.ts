// Every option of weft-control, declared once: main.ts reads them, --help and the README's table
// are made from them, and the chart, the local stack, the image runner and the lab are checked
// against them (test/e2e/options.test.ts, test/e2e/charts.test.ts).
import { hostname } from 'node:os';
import { commonOptions, type OptionSpec, option } from '@weft/kit';

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

export const controlOptions = {
  configApiGrpc: address('WEFT_CONFIG_API_GRPC', "host:port of config-api's gRPC Config service", '127.0.0.1:8090'),
  configApiTokenFile: option.string(
    'WEFT_CONFIG_API_TOKEN_FILE',
    "file holding the token control sends to config-api (read again at every connection); empty: none, for config-api's no-auth mode",
    '',
  ),
  configApiToken: option.string(
    'WEFT_CONFIG_API_TOKEN',
    'the token control sends to config-api, when WEFT_CONFIG_API_TOKEN_FILE is not given (the chart sets it from a Secret)',
    '',
    { secret: true },
  ),
  agentPort: option.port('WEFT_CONTROL_AGENT_PORT', 'gRPC port agents connect to', 5269, { listen: 'tcp' }),
  httpPort: option.port('WEFT_CONTROL_HTTP_PORT', 'HTTP port for health, metrics and introspection', 8083, {
    listen: 'tcp',
  }),
  host: option.required('WEFT_CONTROL_HOST', 'address to listen on', '0.0.0.0'),
  agentHoldTime: option.duration(
    'WEFT_CONTROL_AGENT_HOLD_TIME',
    "how long a disconnected agent's routes stay before they are withdrawn",
    30_000,
  ),
  name: {
    ...option.required('WEFT_CONTROL_NAME', 'name of this replica in UVEs', hostname()),
    shownDefault: 'the host name',
  },
};

/** Everything weft-control takes: the kit's common options and its own. */
export const declaredOptions = { ...commonOptions, ...controlOptions };

// The daemons of the local stack, in start order. A service whose dist/main.js is not built yet
// is left out, so the stack grows as services land. Ports are Tungsten Fabric's where it had one.
//
// Each entry: name; main (the built entry point); env({ stateDir, host }) — the options the stack
// sets (besides these, the caller's WEFT_* variables that the service declares pass through, so
// every option of a service can be overridden); readyUrl(env) — where readiness is asked; describe(env) — where
// it listens, for the start banner; needsRoot — why it cannot start without root, if it needs it;
// cleanupArgs — run with the same options once the service has stopped, to remove what it made;
// identity(settings) — the name its certificate carries, from its options (default: its name).
import { dirname, join } from 'node:path';

const port = (env, name, fallback) => env[name] ?? String(fallback);
// One tokens file for the stack, in its state directory: config-api makes it at its first start,
// with one cloud-admin token that it also writes alone to admin.token beside it (for curl,
// weftctl and control).
const tokensFile = (stateDir) => join(dirname(stateDir), 'tokens.json');
const adminToken = (stateDir) => join(dirname(stateDir), 'admin.token');

export const stackServices = [
  {
    name: 'config-api',
    main: 'services/config-api/dist/main.js',
    env: ({ stateDir, host }) => ({
      WEFT_STATE_DIR: stateDir,
      WEFT_CONFIG_API_HOST: host,
      WEFT_AUTH_TOKENS_FILE: process.env.WEFT_AUTH_TOKENS_FILE ?? tokensFile(stateDir),
    }),
    readyUrl: (env) => `http://${env.WEFT_CONFIG_API_HOST}:${port(env, 'WEFT_CONFIG_API_REST_PORT', 8082)}/readyz`,
    describe: (env) =>
      `REST http://${env.WEFT_CONFIG_API_HOST}:${port(env, 'WEFT_CONFIG_API_REST_PORT', 8082)} (docs at /docs), ` +
      `gRPC ${env.WEFT_CONFIG_API_HOST}:${port(env, 'WEFT_CONFIG_API_GRPC_PORT', 8090)}, ` +
      `admin token in ${adminToken(env.WEFT_STATE_DIR)} (send it as X-Auth-Token)`,
  },
  {
    name: 'control',
    main: 'services/control/dist/main.js',
    env: ({ stateDir, host }) => ({
      WEFT_STATE_DIR: stateDir,
      WEFT_CONTROL_HOST: host,
      WEFT_CONFIG_API_GRPC: `${host}:${process.env.WEFT_CONFIG_API_GRPC_PORT ?? 8090}`,
      WEFT_CONFIG_API_TOKEN_FILE: process.env.WEFT_CONFIG_API_TOKEN_FILE ?? adminToken(stateDir),
    }),
    readyUrl: (env) => `http://${env.WEFT_CONTROL_HOST}:${port(env, 'WEFT_CONTROL_HTTP_PORT', 8083)}/readyz`,
    describe: (env) =>
      `agents gRPC ${env.WEFT_CONTROL_HOST}:${port(env, 'WEFT_CONTROL_AGENT_PORT', 5269)}, ` +
      `introspection http://${env.WEFT_CONTROL_HOST}:${port(env, 'WEFT_CONTROL_HTTP_PORT', 8083)}`,
  },
  {
    name: 'analytics',
    main: 'services/analytics/dist/main.js',
    env: ({ stateDir, host }) => ({
      WEFT_STATE_DIR: stateDir,
      WEFT_REST_HOST: host,
      WEFT_AUTH_TOKENS_FILE: process.env.WEFT_AUTH_TOKENS_FILE ?? tokensFile(stateDir),
    }),
    readyUrl: (env) => `http://${env.WEFT_REST_HOST}:${port(env, 'WEFT_REST_PORT', 8081)}/readyz`,
    describe: (env) => `REST http://${env.WEFT_REST_HOST}:${port(env, 'WEFT_REST_PORT', 8081)}/analytics/uves`,
  },
  {
    // The datapath of this one machine: pods here reach each other through it. On stop its
    // programs, maps and devices are removed, since the local stack is not upgraded in place.
    name: 'vrouter-agent',
    main: 'services/vrouter-agent/dist/main.js',
    needsRoot: 'the datapath loads BPF programs and makes network devices: run npm start as root',
    env: ({ stateDir, host }) => ({
      WEFT_STATE_DIR: stateDir,
      WEFT_AGENT_HTTP_HOST: host,
      WEFT_AGENT_CONTROL: `${host}:${process.env.WEFT_CONTROL_AGENT_PORT ?? 5269}`,
      // The stack's tokens file: its admin token (weftctl's) may use the agent's introspection.
      WEFT_AUTH_TOKENS_FILE: process.env.WEFT_AUTH_TOKENS_FILE ?? tokensFile(stateDir),
    }),
    readyUrl: (env) => `http://${env.WEFT_AGENT_HTTP_HOST}:${port(env, 'WEFT_AGENT_HTTP_PORT', 8085)}/readyz`,
    describe: (env) =>
      `CNI socket ${env.WEFT_AGENT_CNI_SOCKET ?? '/run/weft/agent.sock'}, ` +
      `health and introspection http://${env.WEFT_AGENT_HTTP_HOST}:${port(env, 'WEFT_AGENT_HTTP_PORT', 8085)} (the admin token)`,
    cleanupArgs: ['cleanup'],
    // Control believes the host name its certificate carries.
    identity: (settings) => settings.WEFT_AGENT_HOST_NAME,
  },
];

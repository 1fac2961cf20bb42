// The daemons of the local stack, in start order. A service whose dist/main.js is not built yet
// is left out, so the stack grows as services land. Ports are Tungsten Fabric's where it had one.
//
// Each entry: name; main (the built entry point); env({ stateDir, host }) — the options the stack
// sets (anything else passes through from the caller's environment, so every WEFT_* option of a
// service can be overridden); readyUrl(env) — where readiness is asked; describe(env) — where
// it listens, for the start banner; needsRoot — why it cannot start without root, if it needs it.
const port = (env, name, fallback) => env[name] ?? String(fallback);

export const stackServices = [
  {
    name: 'config-api',
    main: 'services/config-api/dist/main.js',
    env: ({ stateDir, host }) => ({ WEFT_STATE_DIR: stateDir, WEFT_CONFIG_API_HOST: host }),
    readyUrl: (env) => `http://${env.WEFT_CONFIG_API_HOST}:${port(env, 'WEFT_CONFIG_API_REST_PORT', 8082)}/readyz`,
    describe: (env) =>
      `REST http://${env.WEFT_CONFIG_API_HOST}:${port(env, 'WEFT_CONFIG_API_REST_PORT', 8082)} (docs at /docs), ` +
      `gRPC ${env.WEFT_CONFIG_API_HOST}:${port(env, 'WEFT_CONFIG_API_GRPC_PORT', 8090)}`,
  },
  {
    name: 'control',
    main: 'services/control/dist/main.js',
    env: ({ stateDir, host }) => ({
      WEFT_STATE_DIR: stateDir,
      WEFT_CONTROL_HOST: host,
      WEFT_CONFIG_API_GRPC: `${host}:${process.env.WEFT_CONFIG_API_GRPC_PORT ?? 8090}`,
    }),
    readyUrl: (env) => `http://${env.WEFT_CONTROL_HOST}:${port(env, 'WEFT_CONTROL_HTTP_PORT', 8083)}/readyz`,
    describe: (env) =>
      `agents gRPC ${env.WEFT_CONTROL_HOST}:${port(env, 'WEFT_CONTROL_AGENT_PORT', 5269)}, ` +
      `introspection http://${env.WEFT_CONTROL_HOST}:${port(env, 'WEFT_CONTROL_HTTP_PORT', 8083)}`,
  },
  {
    name: 'analytics',
    main: 'services/analytics/dist/main.js',
    env: ({ stateDir, host }) => ({ WEFT_STATE_DIR: stateDir, WEFT_REST_HOST: host }),
    readyUrl: (env) => `http://${env.WEFT_REST_HOST}:${port(env, 'WEFT_REST_PORT', 8081)}/readyz`,
    describe: (env) => `REST http://${env.WEFT_REST_HOST}:${port(env, 'WEFT_REST_PORT', 8081)}/analytics/uves`,
  },
];

#!/usr/bin/env node
// weft-vrouter-agent: one per host. Reads its options (WEFT_* env or flags), loads the BPF
// datapath (adopting what an earlier agent pinned), serves the CNI socket, follows every control
// replica, and stops on SIGTERM/SIGINT leaving the datapath forwarding.
//
//   weft-vrouter-agent            run
//   weft-vrouter-agent cleanup    remove every program, map, pin and port record the agent made
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Authenticator, authSettingsOf, createHttpApp, NatsLink, startDaemon, UvePublisher } from '@weft/kit';
import { Agent } from './agent/agent.js';
import { agentOptions } from './agent/options.js';
import { defaultRouteDevice, firstIpv4Address, linkMtu } from './agent/underlay.js';
import { HostDatapath } from './datapath/host-datapath.js';
import { registerIntrospection } from './introspect/routes.js';
import { introspectUrlOf } from './introspect/url.js';

const cleanupOnly = process.argv[2] === 'cleanup';
if (cleanupOnly) process.argv.splice(2, 1);
const { config, tls, httpTls, logger, metrics, readiness, lifecycle } = startDaemon('vrouter-agent', agentOptions);
const version = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

const underlayDevice = config.underlayDevice || defaultRouteDevice();
const underlayAddress = config.underlayAddress || (underlayDevice && firstIpv4Address(underlayDevice));
if (!underlayDevice || !underlayAddress) {
  process.stderr.write(
    'weft-vrouter-agent: no underlay: set WEFT_AGENT_UNDERLAY_DEVICE and WEFT_AGENT_UNDERLAY_ADDRESS (there is no default route to guess from)\n',
  );
  process.exit(2);
}

// Refused before anything is touched: a wrong combination (no-auth beyond loopback, a JWKS
// without its issuer) is one line and exit 2, as for a wrong single option.
let authenticator: Authenticator | undefined;
if (!cleanupOnly) {
  try {
    authenticator = new Authenticator(authSettingsOf(config), { logger, host: config.httpHost });
  } catch (error) {
    process.stderr.write(`weft-vrouter-agent: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}

const datapath = new HostDatapath({
  hostName: config.hostName,
  pinRoot: config.bpffsDir || join('/sys/fs/bpf/weft', config.hostName),
  underlayDevice,
  underlayAddress,
  sampleRate: config.flowSampleRate,
  mode: config.datapathMode,
  underlayStage: config.underlayStage,
  tunnelDevice: config.tunnelDevice,
  tunnelPort: config.tunnelPort,
  logger,
});

const nats = new NatsLink({
  servers: config.natsUrl,
  tls,
  name: `weft-vrouter-agent-${config.hostName}`,
  logger,
  metrics,
  readiness,
});
const uve = new UvePublisher({ link: nats, source: `vrouter-agent:${config.hostName}`, logger });
const agent = new Agent({
  options: {
    hostName: config.hostName,
    underlayAddress,
    controlAddresses: config.control,
    cniSocket: config.cniSocket,
    cniDeleteQueue: config.cniDeleteQueue,
    stateDir: config.stateDir,
    underlayMtu: linkMtu(underlayDevice) ?? 1500,
    version,
    flowSampleRate: config.flowSampleRate,
    flowExportIntervalMs: config.flowExportInterval,
    tls,
    introspectUrl: introspectUrlOf({
      httpHost: config.httpHost,
      httpPort: config.httpPort,
      underlayAddress,
      https: httpTls !== undefined,
    }),
  },
  datapath,
  logger,
  metrics,
  readiness,
  uve,
  nats,
});

if (cleanupOnly) {
  await agent.cleanup();
  logger.info('cleaned up');
  await nats.close();
  process.exit(0);
}

lifecycle.onStop('nats', () => nats.close());
lifecycle.onStop('uve', () => uve.close());
await agent.start();
lifecycle.onStop('agent', () => agent.stop());
const app = createHttpApp({ logger, readiness, metrics, tls: httpTls });
registerIntrospection(
  app,
  {
    hostState: () => agent.introspect(),
    view: () => agent.state.view(),
    ports: () => agent.ports.all(),
    inspect: () => datapath.inspect(),
  },
  authenticator!,
);
lifecycle.onStop('http', () => app.close());
await app.listen({ host: config.httpHost, port: config.httpPort });
logger.info(
  { host: config.hostName, underlayDevice, underlayAddress, control: config.control },
  'vrouter-agent running',
);

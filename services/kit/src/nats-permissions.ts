// Who may publish and subscribe on which NATS subjects: one user per service, derived here from
// the subjects' own declarations (config changes below; UVEs, flows and logs in uve.ts), and the
// nats-server configuration that enforces it. A service is known to nats-server by its client
// certificate (mutual TLS, verify_and_map): the certificate carries the service's URN as a URI
// subject alternative name, so an agent's certificate can name its host for control and its
// service for NATS at once. A client without a certificate, or with one that maps to no user,
// is refused; a user that publishes or subscribes outside its own subjects gets a permissions
// violation and nothing is delivered.
import { FLOW_SUBJECT_PREFIX, LOG_SUBJECT_PREFIX, UVE_SUBJECT_PREFIX } from './uve.js';

/** NATS subject of every committed config change (weft.config.v1.ChangeEvent), in revision order. */
export const CONFIG_CHANGES_SUBJECT = 'weft.config.changes';

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

const uves = `${UVE_SUBJECT_PREFIX}>`;
const flows = `${FLOW_SUBJECT_PREFIX}>`;
/** A service's log records go out on weft.log.<service> (publishLog's record.service). */
const logsOf = (service: string) => `${LOG_SUBJECT_PREFIX}${service}`;

/** Every service that talks over NATS, and what it may do there. */
export const NATS_PERMISSIONS = {
  'config-api': { publish: [CONFIG_CHANGES_SUBJECT, uves, logsOf('config-api')], subscribe: [] },
  control: { publish: [uves, logsOf('control')], subscribe: [CONFIG_CHANGES_SUBJECT] },
  'vrouter-agent': { publish: [uves, flows, logsOf('vrouter-agent')], subscribe: [] },
  // analytics owns the JetStream streams that capture UVEs, flows and logs: it manages them and
  // pulls from their consumers through the JetStream API, and acknowledges what it stored; the
  // messages and API replies come to its inbox.
  analytics: {
    publish: [uves, logsOf('analytics'), '$JS.API.>', '$JS.ACK.>'],
    subscribe: [uves, flows, `${LOG_SUBJECT_PREFIX}>`, '_INBOX.>'],
  },
} as const satisfies Record<string, NatsPermissions>;

export type NatsService = keyof typeof NATS_PERMISSIONS;

/** The URI a service's certificate carries (and its NATS user name): urn:weft:service:<name>. */
export function natsUserOf(service: NatsService): string {
  return `urn:weft:service:${service}`;
}

export interface NatsServerConfigOptions {
  /** nats-server's own certificate and key, and the CA that signs every client. */
  tls: { certFile: string; keyFile: string; caFile: string };
}

const quoted = (text: string) => JSON.stringify(text);
const list = (subjects: readonly string[]) => `[${subjects.map(quoted).join(', ')}]`;
// An empty allow list would allow everything: nothing allowed is everything denied.
const rule = (subjects: readonly string[]) => (subjects.length > 0 ? `allow: ${list(subjects)}` : 'deny: [">"]');

/**
 * The part of nats-server's configuration (its own file format) that requires a client
 * certificate signed by the CA, maps it to a service's user, and gives each user its
 * permissions. Listen address, port and JetStream stay on the command line.
 */
export function natsServerConfig({ tls }: NatsServerConfigOptions): string {
  const users = Object.entries(NATS_PERMISSIONS).map(
    ([service, { publish, subscribe }]) =>
      `    { user: ${quoted(natsUserOf(service as NatsService))}, permissions: { publish: { ${rule(publish)} }, subscribe: { ${rule(subscribe)} } } }`,
  );
  return [
    '# Made by Weft from @weft/kit nats-permissions.ts: one user per service, by client certificate.',
    'tls {',
    `  cert_file: ${quoted(tls.certFile)}`,
    `  key_file: ${quoted(tls.keyFile)}`,
    `  ca_file: ${quoted(tls.caFile)}`,
    '  verify_and_map: true',
    '}',
    'authorization {',
    '  users = [',
    ...users,
    '  ]',
    '}',
    '',
  ].join('\n');
}

// Examples of what travels between versions, recorded from the code that sends it: every NATS
// subject's message as a real publisher puts it on a real nats-server, and REST exchanges with
// a real config-api. A release records them (record-release.ts); the next version must still
// read the recorded messages, the recorded release must read the messages the next version
// sends (decoded with the release's .proto files), and the recorded REST requests must still be
// accepted with answers that keep every recorded field.
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startConfigApi } from '@weft/config-api';
import {
  CONFIG_CHANGES_SUBJECT,
  createLogger,
  createMetrics,
  FLOW_SUBJECT_PREFIX,
  LOG_SUBJECT_PREFIX,
  NatsLink,
  publishFlows,
  publishLog,
  Readiness,
  UVE_SUBJECT_PREFIX,
  UvePublisher,
} from '@weft/kit';
import { startNatsServer, tempDir, waitFor } from '@weft/kit/testing';
import { protoFiles, protoRoot } from '@weft/proto';
import protobuf from 'protobufjs';
import { lastRelease, type Problem } from './release.js';

/** One NATS message: its subject, its protobuf type, the bytes sent, and what they decode to. */
export interface NatsExample {
  /** The file it is kept in, without .json; problems name it. */
  name: string;
  subject: string;
  messageType: string;
  base64: string;
  decoded: Record<string, unknown>;
}

/** A REST request (paths and bodies may name an earlier answer's field: {{name.path.to.field}}). */
export interface RestRequest {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  body?: unknown;
}

export interface RestExchange extends RestRequest {
  status: number;
  response: unknown;
}

/** The requests a release records: the core of the VNC API that scripts and weftctl use. */
export const REST_REQUESTS: RestRequest[] = [
  {
    name: 'create-network-ipam',
    method: 'POST',
    path: '/network-ipams',
    body: { 'network-ipam': { fq_name: ['default-domain', 'default-project', 'compat-ipam'] } },
  },
  {
    name: 'create-virtual-network',
    method: 'POST',
    path: '/virtual-networks',
    body: {
      'virtual-network': {
        fq_name: ['default-domain', 'default-project', 'compat-net'],
        network_ipam_refs: [
          {
            to: ['default-domain', 'default-project', 'compat-ipam'],
            attr: { ipam_subnets: [{ subnet: { ip_prefix: '10.77.0.0', ip_prefix_len: 24 } }] },
          },
        ],
      },
    },
  },
  {
    name: 'read-virtual-network',
    method: 'GET',
    path: '/virtual-network/{{create-virtual-network.virtual-network.uuid}}',
  },
  { name: 'list-virtual-networks', method: 'GET', path: '/virtual-networks?detail=true' },
  {
    name: 'fqname-to-id',
    method: 'POST',
    path: '/fqname-to-id',
    body: { type: 'virtual-network', fq_name: ['default-domain', 'default-project', 'compat-net'] },
  },
  {
    name: 'update-virtual-network',
    method: 'PUT',
    path: '/virtual-network/{{create-virtual-network.virtual-network.uuid}}',
    body: { 'virtual-network': { display_name: 'compat network' } },
  },
  {
    name: 'create-with-bad-field',
    method: 'POST',
    path: '/virtual-networks',
    body: { 'virtual-network': { fq_name: ['default-domain', 'default-project', 'compat-bad'], route_target: 7 } },
  },
  {
    name: 'delete-virtual-network',
    method: 'DELETE',
    path: '/virtual-network/{{create-virtual-network.virtual-network.uuid}}',
  },
  { name: 'read-deleted', method: 'GET', path: '/virtual-network/{{create-virtual-network.virtual-network.uuid}}' },
];

function fieldAt(value: unknown, path: string[]): unknown {
  let at = value;
  for (const key of path) at = (at as Record<string, unknown> | undefined)?.[key];
  return at;
}

/** Fills {{exchange.path}} from earlier answers; fails naming the placeholder it cannot fill. */
function fill(text: string, answers: Map<string, unknown>): string {
  return text.replace(/\{\{([^}]+)\}\}/g, (_, ref: string) => {
    const [name, ...path] = ref.split('.');
    const value = fieldAt(answers.get(name!), path);
    if (typeof value !== 'string' && typeof value !== 'number') throw new Error(`no value for {{${ref}}}`);
    return String(value);
  });
}

/** Runs requests in order against a REST base URL, each filled from the answers before it. */
export async function runRestRequests(base: string, requests: RestRequest[]): Promise<RestExchange[]> {
  const answers = new Map<string, unknown>();
  const exchanges: RestExchange[] = [];
  for (const request of requests) {
    const body = request.body === undefined ? undefined : fill(JSON.stringify(request.body), answers);
    const response = await fetch(base + fill(request.path, answers), {
      method: request.method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    answers.set(request.name, parsed);
    exchanges.push({ ...request, status: response.status, response: parsed });
  }
  return exchanges;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
/** Fields whose value differs between any two runs: only their presence and type are compared. */
const VOLATILE_KEYS = new Set(['uuid', 'href', 'created', 'last_modified', 'parent_uuid', 'request_id']);

function isVolatile(key: string, value: unknown): boolean {
  // Clocks and counters: when a message was made, and which revision or record it was.
  if (VOLATILE_KEYS.has(key) || key.endsWith('_ms') || key === 'record_id' || key === 'revision') return true;
  return (
    typeof value === 'string' && (UUID.test(value) || /^https?:\/\//.test(value) || /^\d{4}-\d\d-\d\dT/.test(value))
  );
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/**
 * What of `recorded` is missing or different in `current`: every recorded field must be there
 * with the same kind of value, and the same value unless it differs from run to run. Fields the
 * current answer adds are fine. Arrays: each recorded item must match some current item.
 */
export function shapeDifferences(recorded: unknown, current: unknown, at = '$', key = ''): string[] {
  if (kindOf(recorded) !== kindOf(current))
    return [`${at}: was ${kindOf(recorded)} ${JSON.stringify(recorded)}, now ${kindOf(current)}`];
  if (Array.isArray(recorded)) {
    const items = current as unknown[];
    const problems: string[] = [];
    recorded.forEach((item, i) => {
      if (!items.some((candidate) => shapeDifferences(item, candidate, `${at}[${i}]`, key).length === 0))
        problems.push(
          `${at}[${i}]: no item matches the recorded ${JSON.stringify(item)}` +
            (items.length > 0
              ? ` (closest: ${shapeDifferences(item, items[Math.min(i, items.length - 1)], `${at}[${i}]`, key)[0]})`
              : ''),
        );
    });
    return problems;
  }
  if (recorded !== null && typeof recorded === 'object') {
    const now = current as Record<string, unknown>;
    return Object.entries(recorded as Record<string, unknown>).flatMap(([field, value]) =>
      field in now ? shapeDifferences(value, now[field], `${at}.${field}`, field) : [`${at}.${field}: missing`],
    );
  }
  if (recorded !== current && !isVolatile(key, recorded))
    return [`${at}: was ${JSON.stringify(recorded)}, now ${JSON.stringify(current)}`];
  return [];
}

/** Replays the recorded requests against a running config-api and lists what no longer holds. */
export async function restProblems(base: string, recorded: RestExchange[]): Promise<Problem[]> {
  const now = await runRestRequests(base, recorded);
  return recorded.flatMap((was, i) => {
    const current = now[i]!;
    const problems: Problem[] = [];
    if (current.status !== was.status)
      problems.push({
        kind: 'rest',
        path: was.name,
        rule: 'status',
        message: `was ${was.status}, now ${current.status}`,
      });
    for (const difference of shapeDifferences(was.response, current.response))
      problems.push({ kind: 'rest', path: was.name, rule: difference.split(':')[0]!, message: difference });
    return problems;
  });
}

/** What each subject carries, as publishers send it. */
const MESSAGE_TYPES: { prefix: string; messageType: string }[] = [
  { prefix: CONFIG_CHANGES_SUBJECT, messageType: 'weft.config.v1.ChangeEvent' },
  { prefix: UVE_SUBJECT_PREFIX, messageType: 'weft.analytics.v1.Uve' },
  { prefix: FLOW_SUBJECT_PREFIX, messageType: 'weft.analytics.v1.FlowBatch' },
  { prefix: LOG_SUBJECT_PREFIX, messageType: 'weft.analytics.v1.LogRecord' },
];

export function messageTypeOf(subject: string): string | undefined {
  return MESSAGE_TYPES.find((m) => subject === m.prefix || subject.startsWith(m.prefix))?.messageType;
}

const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };

/** A decoder for the .proto tree under `root` (the checkout's proto/ or a release's copy). */
export function decoderFor(root: string): (messageType: string, bytes: Uint8Array) => Record<string, unknown> {
  const types = new protobuf.Root().loadSync(
    Object.values(protoFiles).map((file) => join(root, file)),
    { keepCase: true },
  );
  return (messageType, bytes) => {
    const type = types.lookupType(messageType);
    return type.toObject(type.decode(bytes), toObjectOptions);
  };
}

/**
 * Records one message per subject from the real publishers on a real nats-server: config-api's
 * change event for a REST write, a UVE part, a flow batch and a log record. Also returns the
 * REST exchanges that made the change events, and copies the config store they left to
 * keepConfigStore when given.
 */
export async function recordFromRunningCode(
  keepConfigStore?: string,
): Promise<{ nats: NatsExample[]; rest: RestExchange[] }> {
  const nats = await startNatsServer({ jetstream: false });
  const state = tempDir('weft-compat-');
  const logger = createLogger({ service: 'compat', level: 'silent' });
  const link = new NatsLink({
    servers: [nats.url],
    name: 'weft-compat',
    logger,
    metrics: createMetrics('compat'),
    readiness: new Readiness(),
  });
  const seen = new Map<string, Uint8Array>();
  try {
    const connection = await link.connection();
    const subscription = connection.subscribe('weft.>', {
      callback: (_error, message) => {
        if (!seen.has(message.subject)) seen.set(message.subject, message.data);
      },
    });
    await connection.flush();
    const api = await startConfigApi({ stateDir: state.path, natsUrl: [nats.url], logLevel: 'silent' });
    let rest: RestExchange[];
    try {
      rest = await runRestRequests(api.restUrl, REST_REQUESTS);
    } finally {
      await api.close();
    }
    // The SQLite file those writes left, closed and checkpointed: a store as this release keeps it.
    if (keepConfigStore) copyFileSync(join(state.path, 'config.sqlite'), keepConfigStore);
    const uves = new UvePublisher({ link, source: 'vrouter-agent:compat-host', logger });
    uves.set('vrouter', 'compat-host', { process_state: 'running', control_connected: true });
    publishFlows(link, 'compat-host', [
      {
        source_ip: '10.77.0.3',
        destination_ip: '10.77.0.4',
        protocol: 6,
        source_port: 40000,
        destination_port: 80,
        source_virtual_network: 'default-domain:default-project:compat-net',
        destination_virtual_network: 'default-domain:default-project:compat-net',
        action: 'FLOW_ACTION_PASS',
        bytes: 1500,
        packets: 3,
        first_seen_ms: 1_700_000_000_000,
        last_seen_ms: 1_700_000_001_000,
      },
    ]);
    publishLog(link, {
      service: 'control',
      host: 'compat-host',
      level: 'LOG_LEVEL_WARN',
      message: 'agent session lost',
      fields_json: JSON.stringify({ agent: 'compat-host' }),
      event: 'agent.session',
    });
    // config-api's audit records go out as log records too (weft.log.config-api); the example is
    // the record published here, on its own subject.
    const subjectOf = (messageType: string) =>
      messageType === 'weft.analytics.v1.LogRecord'
        ? seen.has(`${LOG_SUBJECT_PREFIX}control`)
          ? `${LOG_SUBJECT_PREFIX}control`
          : undefined
        : [...seen.keys()].find((s) => messageTypeOf(s) === messageType);
    await waitFor(() => MESSAGE_TYPES.every((m) => subjectOf(m.messageType) !== undefined), {
      what: 'one message on every subject',
    });
    await uves.close();
    subscription.unsubscribe();
    const decode = decoderFor(protoRoot);
    const examples: NatsExample[] = [];
    for (const { prefix, messageType } of MESSAGE_TYPES) {
      const subject = subjectOf(messageType)!;
      const bytes = seen.get(subject)!;
      examples.push({
        name: prefix.replace(/\.$/, '').replaceAll('.', '-'),
        subject,
        messageType,
        base64: Buffer.from(bytes).toString('base64'),
        decoded: decode(messageType, bytes),
      });
    }
    return { nats: examples, rest };
  } finally {
    await link.close();
    await nats.dispose();
    state.remove();
  }
}

/** A decoded message with its JSON-in-a-string fields (…_json) parsed, so their shape is compared too. */
export function withJsonFields(decoded: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(decoded)) {
    if (key.endsWith('_json') && typeof value === 'string' && value !== '') out[key] = JSON.parse(value);
    else if (Array.isArray(value))
      out[key] = value.map((item) =>
        item && typeof item === 'object' ? withJsonFields(item as Record<string, unknown>) : item,
      );
    else out[key] = value;
  }
  return out;
}

export function readNatsExamples(dir = lastRelease.nats): NatsExample[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as NatsExample);
}

export function readRestExchanges(file = lastRelease.rest): RestExchange[] {
  return JSON.parse(readFileSync(file, 'utf8')) as RestExchange[];
}

// Sampled flow records from the datapath's ring buffer, aggregated per flow over an interval
// and sent to analytics as FlowRecords (weft.flow.<host>). The datapath samples the first packet
// of every flow and every denied packet, and one other packet in N: those count once, the
// others N times. Bytes and packets are therefore an estimate, exact for short flows.
//
// While NATS is not connected, records wait in a buffer of at most `bufferLimit` (the oldest go
// first when it is full) and are sent once it is back; each record that had to go is counted in
// `dropped`, which the agent reports in its UVE and metrics, and analytics alarms on.
import { randomUUID } from 'node:crypto';
import { type Logger, type NatsLink, publishFlows } from '@weft/kit';
import type { FlowRecord } from '@weft/proto/gen/weft/analytics/v1/FlowRecord.js';
import type { FlowSampleReader } from '../datapath/datapath.js';
import type { HostView } from '../host-state/host-state.js';

export interface FlowExportOptions {
  hostName: string;
  sampleRate: number;
  intervalMs: number;
  nats: NatsLink;
  view: () => HostView;
  logger: Logger;
  /** Most records kept while NATS is away; FLOW_BUFFER_LIMIT when not given. */
  bufferLimit?: number;
}

/** Records kept while NATS is away: about 5 MB, minutes of a busy host's flows. */
export const FLOW_BUFFER_LIMIT = 20_000;
/** How long after its last drop the export still says it is dropping (the UVE's alarm field). */
const DROPPING_FOR_MS = 60_000;

/** Flows whose first packet was already counted; forgotten wholesale past this many. */
const KNOWN_FLOWS_LIMIT = 100_000;

export class FlowExport {
  #timer: NodeJS.Timeout | undefined;
  readonly #known = new Set<string>();
  #waiting: FlowRecord[] = [];
  #lastDropAt = 0;
  exported = 0;
  /** Records that did not fit the buffer while NATS was away: lost to analytics, never silently. */
  dropped = 0;

  constructor(
    private readonly reader: Pick<FlowSampleReader, 'drain'>,
    private readonly options: FlowExportOptions,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.flush(), this.options.intervalMs);
    this.#timer.unref();
  }

  /** Records waiting for NATS. */
  get buffered(): number {
    return this.#waiting.length;
  }

  /** True while records were dropped within the last minute. */
  get dropping(): boolean {
    return this.dropped > 0 && Date.now() - this.#lastDropAt < DROPPING_FOR_MS;
  }

  /** Drains the ring now and publishes what it held, with what waited for NATS. */
  flush(): void {
    this.#waiting.push(...this.#aggregate());
    if (this.#waiting.length === 0) return;
    const { nats } = this.options;
    // While the connection is down the client would queue without bound; the buffer here is bounded.
    if (nats.isConnected && publishFlows(nats, this.options.hostName, this.#waiting)) {
      this.exported += this.#waiting.length;
      this.#waiting = [];
      return;
    }
    const limit = this.options.bufferLimit ?? FLOW_BUFFER_LIMIT;
    const over = this.#waiting.length - limit;
    if (over > 0) {
      this.#waiting.splice(0, over);
      if (this.dropped === 0 || !this.dropping) {
        this.options.logger.warn({ limit }, 'NATS is away and the flow buffer is full: dropping the oldest records');
      }
      this.dropped += over;
      this.#lastDropAt = Date.now();
    }
  }

  /** The samples in the ring now, one record per flow. */
  #aggregate(): FlowRecord[] {
    const samples = this.reader.drain();
    if (samples.length === 0) return [];
    const scale = Math.max(this.options.sampleRate, 1);
    const networkOfVrf = new Map<number, string>();
    for (const instance of this.options.view().routingInstances.values())
      networkOfVrf.set(instance.vrf_id, instance.virtual_network);
    const flows = new Map<string, FlowRecord & { bytes: number; packets: number }>();
    for (const sample of samples) {
      const { flow } = sample;
      const key = `${flow.vrfId}|${flow.source}|${flow.destination}|${flow.protocol}|${flow.sourcePort}|${flow.destinationPort}|${sample.verdict === 'drop'}`;
      const seenAt = Date.now();
      const record = flows.get(key) ?? {
        record_id: randomUUID(),
        source_ip: flow.source,
        destination_ip: flow.destination,
        protocol: flow.protocol,
        source_port: flow.sourcePort,
        destination_port: flow.destinationPort,
        source_virtual_network: networkOfVrf.get(flow.vrfId) ?? '',
        destination_virtual_network: networkOfVrf.get(sample.destinationVrfId) ?? '',
        host: this.options.hostName,
        action: sample.verdict === 'drop' ? ('FLOW_ACTION_DENY' as const) : ('FLOW_ACTION_PASS' as const),
        bytes: 0,
        packets: 0,
        first_seen_ms: seenAt,
        last_seen_ms: seenAt,
      };
      // A denied packet and a flow's first are always sampled; only the rest stand for N each.
      const firstOfFlow = !this.#known.has(key);
      if (firstOfFlow) {
        if (this.#known.size >= KNOWN_FLOWS_LIMIT) this.#known.clear();
        this.#known.add(key);
      }
      const weight = sample.verdict === 'drop' || firstOfFlow ? 1 : scale;
      record.bytes += sample.length * weight;
      record.packets += weight;
      record.last_seen_ms = seenAt;
      flows.set(key, record);
    }
    return [...flows.values()];
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

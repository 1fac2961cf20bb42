// Sampled flow records from the datapath's ring buffer, aggregated per flow over an interval
// and sent to analytics as FlowRecords (weft.flow.<host>). The datapath samples the first packet
// of every flow and every denied packet, and one other packet in N: those count once, the
// others N times. Bytes and packets are therefore an estimate, exact for short flows.
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
}

/** Flows whose first packet was already counted; forgotten wholesale past this many. */
const KNOWN_FLOWS_LIMIT = 100_000;

export class FlowExport {
  #timer: NodeJS.Timeout | undefined;
  readonly #known = new Set<string>();
  exported = 0;

  constructor(
    private readonly reader: FlowSampleReader,
    private readonly options: FlowExportOptions,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.flush(), this.options.intervalMs);
    this.#timer.unref();
  }

  /** Drains the ring now and publishes what it held. */
  flush(): void {
    const samples = this.reader.drain();
    if (samples.length === 0) return;
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
    if (publishFlows(this.options.nats, this.options.hostName, [...flows.values()])) this.exported += flows.size;
    else this.options.logger.debug({ flows: flows.size }, 'NATS not reached; flow records dropped');
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

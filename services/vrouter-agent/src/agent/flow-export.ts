// Sampled flow records from the datapath's ring buffer, aggregated per flow over an interval
// and sent to analytics as FlowRecords (weft.flow.<host>). The datapath samples every new flow
// and one packet in N; bytes and packets are those samples times N, an estimate by design.
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

export class FlowExport {
  #timer: NodeJS.Timeout | undefined;
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
      networkOfVrf.set(instance.vrf_id, instance.name);
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
      record.bytes += sample.length * scale;
      record.packets += scale;
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

// weft_stats_v2: per-CPU counters by ifindex. Value: struct weft_if_stats, one per possible
// CPU (each rounded up to 8 bytes); decodeValue sums them.
import { type MapSpec, readU32Host, readU64Host, type StructLayout, u32Key } from './codec.js';
import { DROP_REASON_NAMES, DROP_REASONS, type DropReasonName, MAX_INTERFACES } from './constants.js';

export interface InterfaceStats {
  rxPackets: bigint;
  rxBytes: bigint;
  /** Redirected to a pod on this host. */
  txLocal: bigint;
  /** Encapsulated towards another host. */
  txTunnel: bigint;
  /** Passed to the host's stack. */
  toHost: bigint;
  arpReplies: bigint;
  drops: Record<DropReasonName, bigint>;
}

export const statsLayout = {
  struct: 'weft_if_stats',
  size: 48 + DROP_REASONS * 8,
  offsets: { rx_packets: 0, rx_bytes: 8, tx_local: 16, tx_tunnel: 24, to_host: 32, arp_replies: 40, drops: 48 },
} as const satisfies StructLayout;
const o = statsLayout.offsets;

export function emptyStats(): InterfaceStats {
  const drops = Object.fromEntries(DROP_REASON_NAMES.map((name) => [name, 0n])) as Record<DropReasonName, bigint>;
  return { rxPackets: 0n, rxBytes: 0n, txLocal: 0n, txTunnel: 0n, toHost: 0n, arpReplies: 0n, drops };
}

/** The stats map for a machine with `cpus` possible CPUs. */
export function statsMap(cpus: number): MapSpec<number, InterfaceStats> {
  const stride = Math.ceil(statsLayout.size / 8) * 8;
  return {
    name: 'weft_stats_v2',
    keySize: 4,
    valueSize: stride * cpus,
    maxEntries: MAX_INTERFACES,
    perCpu: true,
    encodeKey: (ifindex) => u32Key(ifindex, 'stats.ifindex'),
    decodeKey: (buf) => readU32Host(buf, 0),
    // The agent creates a zeroed entry per device; the programs count only those.
    encodeValue: () => Buffer.alloc(stride * cpus),
    decodeValue(buf) {
      const total = emptyStats();
      for (let cpu = 0; cpu < cpus; cpu++) {
        const at = cpu * stride;
        total.rxPackets += readU64Host(buf, at + o.rx_packets);
        total.rxBytes += readU64Host(buf, at + o.rx_bytes);
        total.txLocal += readU64Host(buf, at + o.tx_local);
        total.txTunnel += readU64Host(buf, at + o.tx_tunnel);
        total.toHost += readU64Host(buf, at + o.to_host);
        total.arpReplies += readU64Host(buf, at + o.arp_replies);
        DROP_REASON_NAMES.forEach((name, i) => {
          total.drops[name] += readU64Host(buf, at + o.drops + i * 8);
        });
      }
      return total;
    },
  };
}

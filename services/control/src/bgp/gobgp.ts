// The BGP speaker control drives: Debian's gobgpd, over its gRPC API (GoBGP's apipb, vendored
// under proto/third_party/gobgp). Control never speaks BGP itself: it tells gobgpd its identity
// and peers, and which IPv4 unicast paths to originate, and reads back sessions and what the
// peers sent. gobgpd keeps its sessions and paths while control restarts, so a control restart
// withdraws nothing from the gateway.
import { type ChannelCredentials, credentials } from '@grpc/grpc-js';
import { gobgpCodec, loadGobgpProto } from '@weft/proto';
import type { Path__Output } from '@weft/proto/gen/gobgp/apipb/Path.js';
import type { Peer__Output } from '@weft/proto/gen/gobgp/apipb/Peer.js';
import type { Any } from '@weft/proto/gen/gobgp/google/protobuf/Any.js';

/** An IPv4 unicast path: the prefix and the next hop it is advertised (or was learnt) with. */
export interface BgpPath {
  prefix: string;
  nextHop: string;
}

/** A learnt path and the peer it came from. */
export interface LearntPath extends BgpPath {
  peer: string;
}

export interface BgpPeerStatus {
  address: string;
  asn: number;
  /** ESTABLISHED, ACTIVE, IDLE … as gobgpd reports. */
  state: string;
  /** Times the session went down after it had been up. */
  flaps: number;
  received: number;
  accepted: number;
  advertised: number;
}

const IPV4_UNICAST = { afi: 'AFI_IP', safi: 'SAFI_UNICAST' } as const;

const codecs = {
  prefix: gobgpCodec<{ prefix: string; prefix_len: number }, { prefix: string; prefix_len: number }>(
    'apipb.IPAddressPrefix',
  ),
  origin: gobgpCodec<{ origin: number }, { origin: number }>('apipb.OriginAttribute'),
  nextHop: gobgpCodec<{ next_hop: string }, { next_hop: string }>('apipb.NextHopAttribute'),
};

function pack(type: string, bytes: Uint8Array): Any {
  return { type_url: `type.googleapis.com/apipb.${type}`, value: Buffer.from(bytes) };
}

function apiPath(path: BgpPath) {
  const [address, length] = path.prefix.split('/') as [string, string];
  return {
    family: IPV4_UNICAST,
    nlri: pack('IPAddressPrefix', codecs.prefix.encode({ prefix: address, prefix_len: Number(length) })),
    pattrs: [
      // IGP: the prefix is Weft's own.
      pack('OriginAttribute', codecs.origin.encode({ origin: 0 })),
      pack('NextHopAttribute', codecs.nextHop.encode({ next_hop: path.nextHop })),
    ],
  };
}

function decodePath(prefix: string, path: Path__Output): BgpPath {
  const hop = path.pattrs.find((attr) => attr.type_url.endsWith('.NextHopAttribute'));
  return { prefix, nextHop: hop ? codecs.nextHop.decode(hop.value).next_hop : '' };
}

interface CallOptions {
  deadline: number;
}

function callOptions(): CallOptions {
  return { deadline: Date.now() + 5_000 };
}

/** The gRPC client of one gobgpd. */
export class Gobgp {
  readonly #client;

  constructor(
    readonly address: string,
    channelCredentials: ChannelCredentials = credentials.createInsecure(),
  ) {
    const proto = loadGobgpProto();
    this.#client = new proto.apipb.GobgpApi(address, channelCredentials);
  }

  /** Waits for the channel to gobgpd (starting or restarting), rather than failing at once. */
  #ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      (this.#client as unknown as { waitForReady(deadline: number, cb: (error?: Error) => void): void }).waitForReady(
        Date.now() + 5_000,
        (error) => (error ? reject(error) : resolve()),
      );
    });
  }

  async #call<Req, Res>(method: string, request: Req): Promise<Res> {
    await this.#ready();
    return new Promise((resolve, reject) => {
      const client = this.#client as unknown as Record<
        string,
        (req: Req, options: CallOptions, cb: (error: Error | null, res: Res) => void) => void
      >;
      client[method]!.call(this.#client, request, callOptions(), (error, response) =>
        error ? reject(error) : resolve(response),
      );
    });
  }

  async #list<Req, Res>(method: string, request: Req): Promise<Res[]> {
    await this.#ready();
    return new Promise((resolve, reject) => {
      const client = this.#client as unknown as Record<string, (req: Req, options: CallOptions) => NodeJS.EventEmitter>;
      const out: Res[] = [];
      const stream = client[method]!.call(this.#client, request, callOptions());
      stream.on('data', (item: Res) => out.push(item));
      stream.on('end', () => resolve(out));
      stream.on('error', reject);
    });
  }

  /**
   * Starts BGP with this identity unless gobgpd already runs it (after a control restart it
   * does). It listens on the router id's address only (gobgpd connects out to its peers only
   * when it listens, as tried), so that several labs on one machine each have their own.
   */
  async start(asn: number, routerId: string): Promise<'started' | 'running'> {
    const current = await this.#call<object, { global: { asn: number; router_id: string } | null }>('GetBgp', {});
    if (current.global?.asn) return 'running';
    await this.#call('StartBgp', {
      global: { asn, router_id: routerId, listen_port: 179, listen_addresses: [routerId] },
    });
    return 'started';
  }

  /** Adds a peer unless gobgpd has it, with graceful restart for IPv4 unicast. */
  async ensurePeer(address: string, asn: number, restartTimeSeconds: number): Promise<void> {
    const peers = await this.peers();
    if (peers.some((peer) => peer.address === address)) return;
    await this.#call('AddPeer', {
      peer: {
        conf: { neighbor_address: address, peer_asn: asn },
        // gobgpd retries a peer every 120 s by default: a gateway that comes up later would wait that long.
        timers: { config: { connect_retry: 5 } },
        // RFC 8538: the gateway keeps our paths also when gobgpd stops with a NOTIFICATION (Cease),
        // as it does on SIGTERM.
        graceful_restart: { enabled: true, restart_time: restartTimeSeconds, notification_enabled: true },
        afi_safis: [
          { config: { family: IPV4_UNICAST, enabled: true }, mp_graceful_restart: { config: { enabled: true } } },
        ],
      },
    });
  }

  async peers(): Promise<BgpPeerStatus[]> {
    const found = await this.#list<object, { peer: Peer__Output | null }>('ListPeer', {
      address: '',
      enableAdvertised: true,
    });
    return found.flatMap(({ peer }) => {
      if (!peer?.conf) return [];
      const family = peer.afi_safis.find((item) => item.state?.family?.afi === 'AFI_IP');
      return [
        {
          address: peer.conf.neighbor_address,
          asn: peer.conf.peer_asn,
          state: String(peer.state?.session_state ?? 'UNKNOWN'),
          flaps: peer.state?.flops ?? 0,
          received: Number(family?.state?.received ?? 0),
          accepted: Number(family?.state?.accepted ?? 0),
          advertised: Number(family?.state?.advertised ?? 0),
        },
      ];
    });
  }

  async add(path: BgpPath): Promise<void> {
    await this.#call('AddPath', { table_type: 'GLOBAL', path: apiPath(path) });
  }

  async withdraw(path: BgpPath): Promise<void> {
    await this.#call('DeletePath', { table_type: 'GLOBAL', family: IPV4_UNICAST, path: apiPath(path) });
  }

  /** The global table: the paths originated here (through this API) and those the peers sent. */
  async table(): Promise<{ local: BgpPath[]; learnt: LearntPath[] }> {
    const destinations = await this.#list<object, { destination: { prefix: string; paths: Path__Output[] } | null }>(
      'ListPath',
      { table_type: 'GLOBAL', family: IPV4_UNICAST },
    );
    const local: BgpPath[] = [];
    const learnt: LearntPath[] = [];
    for (const { destination } of destinations) {
      for (const path of destination?.paths ?? []) {
        const decoded = decodePath(destination!.prefix, path);
        // gobgpd names no neighbour for the paths it originates.
        if (!path.neighbor_ip || path.neighbor_ip === '<nil>') local.push(decoded);
        else learnt.push({ ...decoded, peer: path.neighbor_ip });
      }
    }
    return { local, learnt };
  }

  close(): void {
    (this.#client as unknown as { close(): void }).close();
  }
}

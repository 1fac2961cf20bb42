// MACs of the underlay next hops towards remote hosts: the outer destination of VXLAN packets.
// XDP cannot ask the kernel's neighbour table, so the agent does, before each reconcile, and
// triggers resolution (one UDP datagram to the discard port) for a neighbour not known yet.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Entries older than this are looked up again, so a replaced host's new MAC is learnt. */
const REFRESH_MS = 30_000;
const USABLE = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT', 'NOARP']);

export class UnderlayNeighbours {
  private readonly known = new Map<string, { mac: string; at: number }>();

  constructor(private readonly device: string) {}

  macOf(address: string): string | undefined {
    return this.known.get(address)?.mac;
  }

  /** Resolves every address not known (or known for too long), waiting at most timeoutMs. */
  async resolve(addresses: Iterable<string>, timeoutMs = 1_000): Promise<void> {
    const now = Date.now();
    const wanted = [...addresses].filter((address) => {
      const entry = this.known.get(address);
      return !entry || now - entry.at > REFRESH_MS;
    });
    await Promise.all(wanted.map((address) => this.resolveOne(address, timeoutMs)));
  }

  private async resolveOne(address: string, timeoutMs: number): Promise<void> {
    const nextHop = await this.nextHop(address);
    const deadline = Date.now() + timeoutMs;
    let poked = false;
    for (;;) {
      const mac = await this.lookup(nextHop);
      if (mac) {
        this.known.set(address, { mac, at: Date.now() });
        return;
      }
      if (Date.now() >= deadline) return;
      if (!poked) {
        poked = true;
        await this.poke(nextHop);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The gateway the kernel routes `address` through, or the address when it is on-link. */
  private async nextHop(address: string): Promise<string> {
    try {
      const { stdout } = await run('ip', ['-j', 'route', 'get', address]);
      const [route] = JSON.parse(stdout) as Array<{ gateway?: string }>;
      return route?.gateway ?? address;
    } catch {
      return address;
    }
  }

  private async lookup(address: string): Promise<string | undefined> {
    try {
      const { stdout } = await run('ip', ['-j', 'neigh', 'show', 'to', address, 'dev', this.device]);
      const entries = JSON.parse(stdout || '[]') as Array<{ lladdr?: string; state?: string[] }>;
      const entry = entries.find((e) => e.lladdr && (e.state ?? []).some((state) => USABLE.has(state)));
      return entry?.lladdr;
    } catch {
      return undefined;
    }
  }

  /** Makes the kernel resolve the neighbour: any datagram towards it starts ARP. */
  private poke(address: string): Promise<void> {
    return new Promise((resolve) => {
      const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
      socket.on('error', () => {
        socket.close();
        resolve();
      });
      socket.send(Buffer.alloc(0), 9, address, () => {
        socket.close();
        resolve();
      });
    });
  }
}

// A map of the datapath in user space: the native map's fd with its encoder (src/maps/).
// Every write encodes all its entries first, so bad input throws before anything changes, and
// then goes to the kernel in batches.
import { errors } from '../errors.js';
import type { MapSpec } from '../maps/codec.js';
import type { NativeBpf, NativeMap } from './native.js';

/** bpf_map_update_elem flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

/** Entries per bpf() batch: large enough to amortise the call, small enough to bound a stall. */
const BATCH = 1024;

export class BpfMap<K, V> {
  constructor(
    private readonly native: NativeBpf,
    readonly info: NativeMap,
    readonly spec: MapSpec<K, V>,
  ) {
    if (info.keySize !== spec.keySize || (!spec.perCpu && info.valueSize !== spec.valueSize)) {
      throw errors.DATAPATH_UNAVAILABLE({
        reason: `map ${info.name} has key/value sizes ${info.keySize}/${info.valueSize} in the object, the encoder expects ${spec.keySize}/${spec.valueSize}`,
      });
    }
  }

  get name(): string {
    return this.info.name;
  }

  get fd(): number {
    return this.info.fd;
  }

  /** Writes entries (create or replace unless flags say otherwise); returns how many. */
  update(entries: Iterable<readonly [K, V]>, flags = BPF_ANY): number {
    const encoded = [...entries].map(
      ([key, value]) => [this.spec.encodeKey(key), this.spec.encodeValue(value)] as const,
    );
    return this.updateEncoded(encoded, flags);
  }

  set(key: K, value: V): void {
    this.update([[key, value]]);
  }

  /** Deletes keys; absent ones are fine. Returns how many existed. */
  delete(keys: Iterable<K>): number {
    return this.deleteEncoded([...keys].map((key) => this.spec.encodeKey(key)));
  }

  get(key: K): V | undefined {
    const value = this.native.mapLookup(this.fd, this.spec.encodeKey(key), this.spec.valueSize);
    return value ? this.spec.decodeValue(value) : undefined;
  }

  /** Every entry, as the kernel holds it now. */
  entries(): Array<[K, V]> {
    const { keys, values, count } = this.native.mapDump(this.fd, this.spec.keySize, this.spec.valueSize);
    const out: Array<[K, V]> = [];
    for (let i = 0; i < count; i++) {
      out.push([
        this.spec.decodeKey(keys.subarray(i * this.spec.keySize, (i + 1) * this.spec.keySize)),
        this.spec.decodeValue(values.subarray(i * this.spec.valueSize, (i + 1) * this.spec.valueSize)),
      ]);
    }
    return out;
  }

  /** Every entry as raw bytes, by the hex of its key: what a reconciler compares against. */
  snapshot(): Map<string, Buffer> {
    const { keys, values, count } = this.native.mapDump(this.fd, this.spec.keySize, this.spec.valueSize);
    const out = new Map<string, Buffer>();
    for (let i = 0; i < count; i++) {
      out.set(
        keys.subarray(i * this.spec.keySize, (i + 1) * this.spec.keySize).toString('hex'),
        values.subarray(i * this.spec.valueSize, (i + 1) * this.spec.valueSize),
      );
    }
    return out;
  }

  /** Writes entries already encoded (key, value). */
  updateEncoded(entries: ReadonlyArray<readonly [Buffer, Buffer]>, flags = BPF_ANY): number {
    let written = 0;
    for (let i = 0; i < entries.length; i += BATCH) {
      const chunk = entries.slice(i, i + BATCH);
      written += this.native.mapUpdate(
        this.fd,
        Buffer.concat(chunk.map(([key]) => key)),
        Buffer.concat(chunk.map(([, value]) => value)),
        chunk.length,
        flags,
      );
    }
    return written;
  }

  /** Deletes keys already encoded; returns how many existed. */
  deleteEncoded(keys: ReadonlyArray<Buffer>): number {
    let deleted = 0;
    for (let i = 0; i < keys.length; i += BATCH) {
      const chunk = keys.slice(i, i + BATCH);
      deleted += this.native.mapDelete(this.fd, Buffer.concat(chunk), chunk.length);
    }
    return deleted;
  }

  clear(): number {
    const { keys, count } = this.native.mapDump(this.fd, this.spec.keySize, this.spec.valueSize);
    return count === 0 ? 0 : this.native.mapDelete(this.fd, keys, count);
  }
}

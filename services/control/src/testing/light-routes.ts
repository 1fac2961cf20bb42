// Route messages read without decoding every route, for simulated agents in benchmarks: a
// thousand agents in one process, each decoding its 500 routes into objects and keeping them,
// cost that process more CPU (and garbage collection) than control spent sending them, on the
// same cores. Here a RouteUpdate is read for its routing instance, each route's prefix and the
// withdrawn prefixes; a route's next hop is decoded from its bytes only when it is asked for.
// Every other message is decoded by the library as usual. Field numbers come from agent.proto
// through protobufjs' reflection.
import { join } from 'node:path';
import { messageCodec, protoFiles, protoRoot } from '@weft/proto';
import type { ControlMessage__Output } from '@weft/proto/gen/weft/control/v1/ControlMessage.js';
import type { NextHop__Output } from '@weft/proto/gen/weft/control/v1/NextHop.js';
import type { Route, Route__Output } from '@weft/proto/gen/weft/control/v1/Route.js';
import protobuf from 'protobufjs';

const root = new protobuf.Root().loadSync(join(protoRoot, protoFiles.agent), { keepCase: true });
const fieldId = (type: string, field: string) => root.lookupType(`weft.control.v1.${type}`).fields[field]!.id;
const SEQ = fieldId('ControlMessage', 'seq');
const ROUTES = fieldId('ControlMessage', 'routes');
const ROUTING_INSTANCE = fieldId('RouteUpdate', 'routing_instance');
const ADD = fieldId('RouteUpdate', 'add');
const WITHDRAW = fieldId('RouteUpdate', 'withdraw');
const PREFIX = fieldId('Route', 'prefix');

const routeCodec = messageCodec<Route, Route__Output>('weft.control.v1.Route');

/** A route whose next hop is decoded from its bytes at the first read. */
export class LazyRoute implements Route__Output {
  #bytes: Uint8Array | undefined;
  #nextHop: NextHop__Output | null = null;

  constructor(
    readonly prefix: string,
    bytes: Uint8Array,
  ) {
    this.#bytes = bytes;
  }

  get next_hop(): NextHop__Output | null {
    if (this.#bytes) {
      this.#nextHop = routeCodec.decode(this.#bytes).next_hop;
      this.#bytes = undefined;
    }
    return this.#nextHop;
  }

  toJSON(): Route__Output {
    return { prefix: this.prefix, next_hop: this.next_hop };
  }
}

/** Thrown inside on a message cut short or of a wire type not known here: the library decodes it. */
const NOT_LIGHT = Symbol('not light');

class Reader {
  at: number;
  constructor(
    readonly buffer: Buffer,
    from: number,
    readonly end: number,
  ) {
    this.at = from;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      if (this.at >= this.end) throw NOT_LIGHT;
      const byte = this.buffer[this.at++]!;
      value += (byte & 127) * scale;
      if (byte < 128) return value;
      scale *= 128;
    }
  }

  /** The next field: its number, wire type, and for a length-delimited one its bytes' range. */
  field(): { id: number; wireType: number; from: number; to: number } {
    const tag = this.varint();
    const wireType = tag & 7;
    const id = Math.floor(tag / 8);
    if (wireType === 0) return { id, wireType, from: this.at, to: this.at };
    if (wireType === 2) {
      const length = this.varint();
      const from = this.at;
      this.at += length;
      if (this.at > this.end) throw NOT_LIGHT;
      return { id, wireType, from, to: this.at };
    }
    if (wireType === 1 || wireType === 5) {
      this.at += wireType === 1 ? 8 : 4;
      return { id, wireType, from: this.at, to: this.at };
    }
    throw NOT_LIGHT;
  }

  text(from: number, to: number): string {
    return this.buffer.toString('utf8', from, to);
  }
}

function readRoutes(reader: Reader, from: number, to: number): NonNullable<ControlMessage__Output['routes']> {
  const update = new Reader(reader.buffer, from, to);
  let routingInstance = '';
  const add: Route__Output[] = [];
  const withdraw: string[] = [];
  while (update.at < update.end) {
    const field = update.field();
    if (field.wireType === 0) update.varint();
    if (field.wireType !== 2) continue;
    if (field.id === ROUTING_INSTANCE) routingInstance = update.text(field.from, field.to);
    else if (field.id === WITHDRAW) withdraw.push(update.text(field.from, field.to));
    else if (field.id === ADD) {
      const route = new Reader(update.buffer, field.from, field.to);
      let prefix = '';
      while (route.at < route.end) {
        const inner = route.field();
        if (inner.wireType === 0) route.varint();
        else if (inner.wireType === 2 && inner.id === PREFIX) prefix = route.text(inner.from, inner.to);
      }
      add.push(new LazyRoute(prefix, update.buffer.subarray(field.from, field.to)));
    }
  }
  return { routing_instance: routingInstance, add, withdraw };
}

/**
 * A deserializer of ControlMessage that reads route messages lightly and leaves every other one
 * to `full` (the library's).
 */
export function lightControlMessages(full: (bytes: Buffer) => ControlMessage__Output) {
  return (bytes: Buffer): ControlMessage__Output => {
    try {
      const reader = new Reader(bytes, 0, bytes.length);
      let seq = 0;
      let routes: ControlMessage__Output['routes'] | undefined;
      while (reader.at < reader.end) {
        const field = reader.field();
        if (field.id === SEQ && field.wireType === 0) seq = reader.varint();
        else if (field.id === ROUTES && field.wireType === 2) routes = readRoutes(reader, field.from, field.to);
        else return full(bytes);
      }
      if (!routes) return full(bytes);
      return { seq, body: 'routes', routes } as ControlMessage__Output;
    } catch (error) {
      if (error === NOT_LIGHT) return full(bytes);
      throw error;
    }
  };
}

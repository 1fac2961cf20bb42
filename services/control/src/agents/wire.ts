// What control writes on agent streams, in protobuf's binary form. Route messages are encoded
// here rather than by the gRPC library, so that each route's bytes are made once and shared by
// every agent that gets it: a tunnel route goes to every host with an interface in its instance
// (or one that imports it), and encoding was most of what sending cost. Every other message is
// left to the library. Message shapes and field numbers come from agent.proto itself, through
// protobufjs' reflection; nothing of the contract is restated here.
import { join } from 'node:path';
import type { ServiceDefinition } from '@grpc/grpc-js';
import { loadAgentProto, protoFiles, protoRoot } from '@weft/proto';
import type { Route } from '@weft/proto/gen/weft/control/v1/Route.js';
import protobuf from 'protobufjs';

const root = new protobuf.Root().loadSync(join(protoRoot, protoFiles.agent), { keepCase: true });
const RouteType = root.lookupType('weft.control.v1.Route');
const ControlMessageType = root.lookupType('weft.control.v1.ControlMessage');
const RouteUpdateType = root.lookupType('weft.control.v1.RouteUpdate');

// Protobuf's wire types: a varint, and a length-delimited field (strings, bytes, messages).
const VARINT = 0;
const LENGTH_DELIMITED = 2;
const tag = (type: protobuf.Type, field: string, wireType: number) => (type.fields[field]!.id << 3) | wireType;
const SEQ = tag(ControlMessageType, 'seq', VARINT);
const ROUTES = tag(ControlMessageType, 'routes', LENGTH_DELIMITED);
const ROUTING_INSTANCE = tag(RouteUpdateType, 'routing_instance', LENGTH_DELIMITED);
const ADD = tag(RouteUpdateType, 'add', LENGTH_DELIMITED);
const WITHDRAW = tag(RouteUpdateType, 'withdraw', LENGTH_DELIMITED);

/** A Route message, encoded. */
export type EncodedRoute = Uint8Array;

export function encodeRoute(route: Route): EncodedRoute {
  return RouteType.encode(RouteType.fromObject(route)).finish();
}

/**
 * A ControlMessage holding a RouteUpdate, from routes already encoded: sized first, then written
 * into one buffer (protobufjs' writer made an object per field and copied the whole message
 * again at the end, and this runs for every route message to every agent).
 */
export function encodeRouteUpdate(
  seq: number,
  update: { routing_instance: string; add: readonly EncodedRoute[]; withdraw: readonly string[] },
): Buffer {
  const nameLength = Buffer.byteLength(update.routing_instance);
  let body = varintSize(ROUTING_INSTANCE) + varintSize(nameLength) + nameLength;
  for (const route of update.add) body += varintSize(ADD) + varintSize(route.length) + route.length;
  const withdrawLengths = update.withdraw.map((prefix) => Buffer.byteLength(prefix));
  for (const length of withdrawLengths) body += varintSize(WITHDRAW) + varintSize(length) + length;
  const out = Buffer.allocUnsafe(varintSize(SEQ) + varintSize(seq) + varintSize(ROUTES) + varintSize(body) + body);
  let at = writeVarint(out, 0, SEQ);
  at = writeVarint(out, at, seq);
  at = writeVarint(out, at, ROUTES);
  at = writeVarint(out, at, body);
  at = writeVarint(out, at, ROUTING_INSTANCE);
  at = writeVarint(out, at, nameLength);
  at += out.write(update.routing_instance, at);
  for (const route of update.add) {
    at = writeVarint(out, at, ADD);
    at = writeVarint(out, at, route.length);
    out.set(route, at);
    at += route.length;
  }
  update.withdraw.forEach((prefix, index) => {
    at = writeVarint(out, at, WITHDRAW);
    at = writeVarint(out, at, withdrawLengths[index]!);
    at += out.write(prefix, at);
  });
  return out;
}

/** Bytes of a non-negative integer (below 2^53) as a protobuf varint. */
function varintSize(value: number): number {
  let size = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    size += 1;
  }
  return size;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  while (value >= 128) {
    out[at++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  out[at++] = value;
  return at;
}

/** The Agent service as the gRPC library takes it, writing messages encoded here as they are. */
export function agentServiceDefinition(): ServiceDefinition {
  const service = loadAgentProto().weft.control.v1.Agent.service;
  const session = service.Session;
  return {
    ...service,
    Session: {
      ...session,
      responseSerialize: (value: unknown) =>
        Buffer.isBuffer(value)
          ? value
          : session.responseSerialize(value as Parameters<typeof session.responseSerialize>[0]),
    },
  };
}

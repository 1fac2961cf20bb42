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

/** A ControlMessage holding a RouteUpdate, from routes already encoded. */
export function encodeRouteUpdate(
  seq: number,
  update: { routing_instance: string; add: readonly EncodedRoute[]; withdraw: readonly string[] },
): Buffer {
  const writer = protobuf.Writer.create();
  writer.uint32(SEQ).uint64(seq);
  writer.uint32(ROUTES).fork();
  writer.uint32(ROUTING_INSTANCE).string(update.routing_instance);
  for (const route of update.add) writer.uint32(ADD).bytes(route);
  for (const prefix of update.withdraw) writer.uint32(WITHDRAW).string(prefix);
  writer.ldelim();
  const bytes = writer.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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

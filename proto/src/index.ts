// The one place that loads Weft's .proto files at run time. Services get typed gRPC
// constructors from here, and protobuf codecs for the analytics messages that travel over NATS.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GrpcObject, loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { ProtoGrpcType as AgentGrpcType } from '../gen/agent.js';
import type { ProtoGrpcType as AnalyticsGrpcType } from '../gen/analytics.js';
import type { ProtoGrpcType as CniGrpcType } from '../gen/cni.js';
import type { ProtoGrpcType as ConfigGrpcType } from '../gen/config.js';
import type { ProtoGrpcType as GobgpGrpcType } from '../gen/gobgp/gobgp.js';

/** Folder that holds the weft/… .proto tree (the package root, two levels above dist/src). */
export const protoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The options the generated types were made with; loading with others would break them. */
export const loaderOptions: Options = readLoaderOptions();

function readLoaderOptions(): Options {
  // The JSON file names the types ("Number", "String") that the loader wants as constructors.
  const constructors = { Number, String } as const;
  const raw = JSON.parse(readFileSync(join(protoRoot, 'loader-options.json'), 'utf8'));
  return {
    ...raw,
    longs: constructors[raw.longs as keyof typeof constructors],
    enums: constructors[raw.enums as keyof typeof constructors],
  };
}

export const protoFiles = {
  config: 'weft/config/v1/config.proto',
  agent: 'weft/control/v1/agent.proto',
  analytics: 'weft/analytics/v1/analytics.proto',
  cni: 'weft/agent/v1/cni.proto',
} as const;

function loadGrpc(file: string): GrpcObject {
  return loadPackageDefinition(loadSync(file, { ...loaderOptions, includeDirs: [protoRoot] }));
}

/** gRPC definitions of weft.config.v1 (the Config service and its messages). */
export function loadConfigProto(): ConfigGrpcType {
  return loadGrpc(protoFiles.config) as unknown as ConfigGrpcType;
}

/** gRPC definitions of weft.control.v1 (the Agent stream and its messages). */
export function loadAgentProto(): AgentGrpcType {
  return loadGrpc(protoFiles.agent) as unknown as AgentGrpcType;
}

/** gRPC definitions of weft.agent.v1 (the agent's local API for the CNI plugin). */
export function loadCniProto(): CniGrpcType {
  return loadGrpc(protoFiles.cni) as unknown as CniGrpcType;
}

/** gRPC-style definitions of weft.analytics.v1, for tools that want the descriptors. */
export function loadAnalyticsProto(): AnalyticsGrpcType {
  return loadGrpc(protoFiles.analytics) as unknown as AnalyticsGrpcType;
}

/** Encodes and decodes one message type in protobuf's binary form, with the loader's options. */
export interface MessageCodec<In, Out> {
  encode(message: In): Uint8Array;
  decode(bytes: Uint8Array): Out;
}

let messageRoot: protobuf.Root | undefined;

/**
 * A binary codec for any Weft message, by full name: messageCodec('weft.analytics.v1.Uve'),
 * messageCodec('weft.config.v1.ChangeEvent'). Used for what travels over NATS.
 */
export function messageCodec<In extends object, Out>(fullName: string): MessageCodec<In, Out> {
  // keepCase must be given at parse time for field names to stay snake_case, as the loader's.
  messageRoot ??= new protobuf.Root().loadSync(
    Object.values(protoFiles).map((file) => join(protoRoot, file)),
    { keepCase: true },
  );
  const type = messageRoot.lookupType(fullName);
  const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };
  return {
    encode(message) {
      return type.encode(type.fromObject(message as Record<string, unknown>)).finish();
    },
    decode(bytes) {
      return type.toObject(type.decode(bytes), toObjectOptions) as Out;
    },
  };
}

/** Folder of GoBGP's API (third_party/gobgp), whose files import each other by bare name. */
const gobgpDir = join(protoRoot, 'third_party', 'gobgp');
const gobgpFiles = ['gobgp.proto', 'attribute.proto', 'capability.proto'];

/** gRPC definitions of GoBGP's API (package apipb), which control uses to drive gobgpd. */
export function loadGobgpProto(): GobgpGrpcType {
  return loadPackageDefinition(
    loadSync(gobgpFiles, { ...loaderOptions, includeDirs: [gobgpDir] }),
  ) as unknown as GobgpGrpcType;
}

let gobgpRoot: protobuf.Root | undefined;

/**
 * A binary codec for a GoBGP message by full name (apipb.IPAddressPrefix, apipb.NextHopAttribute
 * …): GoBGP carries path attributes and NLRI as google.protobuf.Any, whose value is that encoding.
 */
export function gobgpCodec<In extends object, Out>(fullName: string): MessageCodec<In, Out> {
  gobgpRoot ??= new protobuf.Root().loadSync(
    gobgpFiles.map((file) => join(gobgpDir, file)),
    { keepCase: true },
  );
  const type = gobgpRoot.lookupType(fullName);
  const toObjectOptions: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, oneofs: true };
  return {
    encode(message) {
      return type.encode(type.fromObject(message as Record<string, unknown>)).finish();
    },
    decode(bytes) {
      return type.toObject(type.decode(bytes), toObjectOptions) as Out;
    },
  };
}

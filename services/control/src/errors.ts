// control's one error catalog: what an agent or an introspection client can be told, with the
// gRPC and HTTP status of each.
import { defineErrors, GrpcStatus } from '@weft/kit';

export const errors = defineErrors({
  INVALID_FIELD: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    message: (d: { field: string; reason: string }) => `${d.field}: ${d.reason}`,
  },
  HELLO_FIRST: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    message: (d: { got: string }) => `the first message of a session must be hello, got ${d.got}`,
  },
  REPLACED: {
    httpStatus: 409,
    grpcStatus: GrpcStatus.ABORTED,
    message: (d: { host: string }) => `a newer session of host ${d.host} replaced this one`,
  },
  NO_SUCH_ROUTING_INSTANCE: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    message: (d: { field: string; value: string }) => `${d.field}: no routing instance ${JSON.stringify(d.value)}`,
  },
  AGENT_NOT_PROVEN: {
    httpStatus: 401,
    grpcStatus: GrpcStatus.UNAUTHENTICATED,
    message: (d: { host: string }) =>
      `hello.host_name: ${JSON.stringify(d.host)} is not proven: the session has no client certificate with a host name`,
  },
  AGENT_NOT_THIS_HOST: {
    httpStatus: 403,
    grpcStatus: GrpcStatus.PERMISSION_DENIED,
    message: (d: { host: string; names: string[] }) =>
      `hello.host_name: ${JSON.stringify(d.host)} is not a name of the client certificate (${d.names.join(', ')})`,
  },
  SHUTTING_DOWN: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    message: () => 'control is shutting down; use the other replica',
  },
});

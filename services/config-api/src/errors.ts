// Every error the config-api returns, with its HTTP and gRPC status. REST answers
// {"error": {code, message, field?, …}}; gRPC answers the status with the same message.
import { authErrorDefinitions, defineErrors, GrpcStatus } from '@weft/kit';

export const errors = defineErrors({
  ...authErrorDefinitions,
  INVALID_FIELD: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    message: (d: { field: string; reason: string }) => `${d.field}: ${d.reason}`,
  },
  NO_SUCH_TYPE: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    message: (d: { type: string }) => `no resource type ${JSON.stringify(d.type)}`,
  },
  NOT_FOUND: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    message: (d: { type: string; uuid?: string; fq_name?: string[] }) =>
      `no ${d.type} with ${d.uuid ? `uuid ${d.uuid}` : `fq_name ${JSON.stringify(d.fq_name)}`}`,
  },
  KEY_NOT_FOUND: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    message: (d: { key: string }) => `key: no user-agent key ${JSON.stringify(d.key)}`,
  },
  PARENT_NOT_FOUND: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    message: (d: { field: string; parent: string }) => `${d.field}: parent ${d.parent} does not exist`,
  },
  REF_NOT_FOUND: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    message: (d: { field: string; type: string; target: string }) =>
      `${d.field}: the referenced ${d.type} ${d.target} does not exist`,
  },
  FQ_NAME_TAKEN: {
    httpStatus: 409,
    grpcStatus: GrpcStatus.ALREADY_EXISTS,
    message: (d: { type: string; fq_name: string[]; uuid: string }) =>
      `fq_name: ${d.type} ${d.fq_name.join(':')} already exists (uuid ${d.uuid})`,
  },
  UUID_TAKEN: {
    httpStatus: 409,
    grpcStatus: GrpcStatus.ALREADY_EXISTS,
    message: (d: { uuid: string }) => `uuid: an object with uuid ${d.uuid} already exists`,
  },
  IN_USE: {
    httpStatus: 409,
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    message: (d: { type: string; uuid: string; children: string[]; back_refs: string[] }) =>
      `${d.type} ${d.uuid} is still in use: ${[
        d.children.length ? `children ${d.children.join(', ')}` : '',
        d.back_refs.length ? `referred to by ${d.back_refs.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join('; ')}`,
  },
  ADDRESS_EXHAUSTED: {
    httpStatus: 409,
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    message: (d: { field: string; network: string }) => `${d.field}: no free address left in ${d.network}`,
  },
  ADDRESS_TAKEN: {
    httpStatus: 409,
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    message: (d: { field: string; address: string; reason: string }) => `${d.field}: ${d.address} ${d.reason}`,
  },
  VALUE_TAKEN: {
    httpStatus: 409,
    grpcStatus: GrpcStatus.ALREADY_EXISTS,
    message: (d: { field: string; value: string }) => `${d.field}: ${d.value} is already in use`,
  },
  SUBNET_IN_USE: {
    httpStatus: 409,
    grpcStatus: GrpcStatus.FAILED_PRECONDITION,
    message: (d: { field: string; subnet: string; address: string }) =>
      `${d.field}: subnet ${d.subnet} cannot be removed while ${d.address} is allocated from it`,
  },
  LOG_TRIMMED: {
    httpStatus: 410,
    grpcStatus: GrpcStatus.OUT_OF_RANGE,
    message: (d: { from_revision: number; oldest: number }) =>
      `from_revision: ${d.from_revision} is no longer in the change log (oldest kept: ${d.oldest}); list again and watch from the revision the list returns`,
  },
  STORE_FULL: {
    // 507 Insufficient Storage (RFC 4918): the request was fine, the store has no room for it.
    httpStatus: 507,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    message: (d: { store: string; reason: string }) =>
      `the config store (${d.store}) is out of disk space: ${d.reason}; nothing was written, free space and try again`,
  },
  STORE_UNAVAILABLE: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    message: (d: { store: string; timeout: string; reason: string }) =>
      `the config store (${d.store}) did not answer within ${d.timeout}: ${d.reason}; try again`,
  },
});

export const invalid = (field: string, reason: string) => errors.INVALID_FIELD({ field, reason });

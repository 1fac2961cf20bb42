// The one error catalog of analytics: every error a REST caller can get, with its stable code.
import { authErrorDefinitions, defineErrors, GrpcStatus } from '@weft/kit';

export const errors = defineErrors({
  ...authErrorDefinitions,
  INVALID_QUERY: {
    httpStatus: 400,
    grpcStatus: GrpcStatus.INVALID_ARGUMENT,
    message: (d: { field: string; reason: string }) => `${d.field}: ${d.reason}`,
  },
  NO_SUCH_TABLE: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    message: (d: { table: string }) => `no table ${d.table}; GET /analytics/tables lists them`,
  },
  NO_SUCH_UVE: {
    httpStatus: 404,
    grpcStatus: GrpcStatus.NOT_FOUND,
    message: (d: { type: string; name: string }) => `no ${d.type} UVE named ${d.name}`,
  },
  QUERY_TOO_LARGE: {
    httpStatus: 422,
    grpcStatus: GrpcStatus.RESOURCE_EXHAUSTED,
    message: (d: { heapMb: number }) =>
      `the query needs more than the ${d.heapMb} MiB a query may hold: narrow its time range, its where or its limit`,
  },
  QUERY_TIMEOUT: {
    httpStatus: 504,
    grpcStatus: GrpcStatus.DEADLINE_EXCEEDED,
    message: (d: { timeoutMs: number }) =>
      `query took longer than ${d.timeoutMs} ms and was stopped; narrow the time range or add a where`,
  },
  NOT_READY: {
    httpStatus: 503,
    grpcStatus: GrpcStatus.UNAVAILABLE,
    message: (d: { reason: string }) => `analytics is not ready: ${d.reason}`,
  },
});

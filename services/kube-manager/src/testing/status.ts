// The API's failure answers: a `Status` object (kind Status, apiVersion v1) with the HTTP code,
// a machine-readable reason and the object's name and kind, as the API reference describes
// (meta/v1 Status, StatusReason). One class, thrown by the store and turned into a reply once.

export type StatusReason =
  | 'BadRequest'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Expired'
  | 'Gone'
  | 'MethodNotAllowed'
  | 'UnsupportedMediaType'
  | 'ServiceUnavailable';

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  NotFound: 404,
  MethodNotAllowed: 405,
  AlreadyExists: 409,
  Conflict: 409,
  Expired: 410,
  Gone: 410,
  UnsupportedMediaType: 415,
  Invalid: 422,
  ServiceUnavailable: 503,
};

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason: string; message: string; field: string }[];
}

export class KubeStatusError extends Error {
  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details: StatusDetails = {},
  ) {
    super(message);
  }

  get code(): number {
    return CODES[this.reason];
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      details: this.details,
      code: this.code,
    };
  }
}

/** The Status a successful delete of a collection or a non-returning delete answers. */
export function successStatus(details: StatusDetails): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details };
}

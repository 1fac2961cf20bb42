// The CNI spec's error codes (SPEC.md, "Error"), and the one error class the plugin returns.
// The runtime reads `code` to decide what to do: 11 means "try again later".

export const CniCode = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  CONTAINER_UNKNOWN: 3,
  INVALID_ENVIRONMENT: 4,
  IO_FAILURE: 5,
  DECODE_FAILURE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  PLUGIN_NOT_AVAILABLE: 50,
  PLUGIN_NOT_AVAILABLE_LIMITED: 51,
  // Plugin-specific codes start at 100 (the spec reserves 0-99).
  INTERFACE_MISMATCH: 100,
} as const;

export type CniCodeValue = (typeof CniCode)[keyof typeof CniCode];

export class CniError extends Error {
  override readonly name = 'CniError';
  constructor(
    readonly code: CniCodeValue,
    /** Short message, as the spec's "msg". */
    message: string,
    /** Longer explanation, as the spec's "details". */
    readonly details = '',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  toJSON(cniVersion: string) {
    return { cniVersion, code: this.code, msg: this.message, details: this.details };
  }
}

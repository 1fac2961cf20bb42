// weftctl's error catalog: every failure it reports has a stable code, an exit code scripts can
// test (documented in the README), a message that names what failed and why, and a hint that
// says what to do. Errors a server answered keep its code, field and reason.

/** Exit codes, for scripts. */
export const EXIT = {
  ok: 0,
  /** Anything not listed below (a server's 5xx, an unexpected failure). */
  failure: 1,
  /** Bad command line or file: nothing was sent. */
  usage: 2,
  /** The object, type, pod, host or routing instance does not exist. */
  notFound: 3,
  /** It exists already, is still in use, or a value is taken. */
  conflict: 4,
  /** The server refused what was sent (a field is wrong). */
  invalid: 5,
  /** A service could not be reached, or did not answer in time. */
  unreachable: 6,
  /** The server wants a (different) token. */
  unauthorized: 7,
  /** The command ran and the answer is no: a part is not ready, a probe did not get through. */
  negative: 8,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode: ExitCode,
    readonly details: { field?: string; hint?: string; service?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Hints for the codes config-api, control and analytics answer with. */
const API_HINTS: Record<string, string> = {
  NOT_FOUND: 'list what exists with `weftctl get TYPE`',
  NO_SUCH_TYPE: '`weftctl api-resources` lists every type',
  PARENT_NOT_FOUND: 'create the parent first, or fix fq_name / parent_type',
  REF_NOT_FOUND: 'create the object it refers to first (an apply -f of both orders them), or fix the reference',
  FQ_NAME_TAKEN: '`weftctl apply -f` updates an object that exists',
  UUID_TAKEN: 'leave uuid out to have one assigned',
  VALUE_TAKEN: 'leave the value out to have a free one assigned',
  IN_USE: 'delete what refers to it first (named above), or remove those references',
  ADDRESS_TAKEN: 'leave the address out to have a free one assigned',
  ADDRESS_EXHAUSTED: 'add a subnet to the network, or free addresses',
  SUBNET_IN_USE: 'delete the addresses of that subnet first',
  INVALID_FIELD: 'fix that field; `weftctl get TYPE NAME -o yaml` shows a valid object of the type',
  INVALID_QUERY: 'see analytics README for the query fields',
  NO_SUCH_ROUTING_INSTANCE: '`weftctl routes` without --vrf lists the routing instances',
};

function exitFor(status: number): ExitCode {
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 400 || status === 413 || status === 422) return EXIT.invalid;
  if (status === 503 || status === 504) return EXIT.unreachable;
  return EXIT.failure;
}

export const errors = {
  usage: (message: string, hint?: string) => new CliError('USAGE', message, EXIT.usage, { hint }),
  file: (file: string, reason: string, hint?: string) =>
    new CliError('BAD_FILE', `${file}: ${reason}`, EXIT.usage, {
      hint: hint ?? 'each document is one object as the API takes it: {"<type>": {fq_name: [...], ...}}',
    }),
  noSuchType: (name: string, known: readonly string[]) =>
    new CliError('NO_SUCH_TYPE', `no resource type "${name}"`, EXIT.notFound, {
      hint: `one of: ${known.join(', ')} (\`weftctl api-resources\` lists them with short names)`,
    }),
  notFound: (what: string, hint?: string) => new CliError('NOT_FOUND', `${what} not found`, EXIT.notFound, { hint }),
  ambiguous: (what: string, candidates: string[]) =>
    new CliError('AMBIGUOUS', `${what} names ${candidates.length} objects: ${candidates.join(', ')}`, EXIT.usage, {
      hint: 'give the full fq_name (a:b:c) or the uuid',
    }),
  unreachable: (service: string, url: string, reason: string, cause?: unknown) =>
    new CliError(
      'UNREACHABLE',
      `${service} at ${url} cannot be reached: ${reason}`,
      EXIT.unreachable,
      {
        service,
        hint: 'is the stack running (`npm start`)? `weftctl config view` shows where weftctl looks; --context or WEFT_CTL_* change it',
      },
      { cause },
    ),
  badAnswer: (service: string, url: string, reason: string) =>
    new CliError('BAD_ANSWER', `${service} at ${url} answered what weftctl cannot read: ${reason}`, EXIT.failure, {
      service,
    }),
  /** An error a server answered: its own code, field and reason. */
  api: (service: string, status: number, body: { code?: string; message?: string; field?: string } | undefined) => {
    const code = body?.code ?? `HTTP_${status}`;
    const hint =
      status === 401 || status === 403
        ? 'set a token: `weftctl config set-context NAME --token …` or WEFT_CTL_TOKEN'
        : API_HINTS[code];
    return new CliError(code, `${service}: ${body?.message ?? `HTTP ${status}`}`, exitFor(status), {
      service,
      ...(body?.field ? { field: body.field } : {}),
      ...(hint ? { hint } : {}),
    });
  },
  negative: (message: string) => new CliError('NEGATIVE', message, EXIT.negative),
  editor: (editor: string, reason: string) =>
    new CliError('EDITOR_FAILED', `the editor "${editor}" ${reason}`, EXIT.failure, {
      hint: 'set EDITOR (or VISUAL) to an editor that waits until the file is closed',
    }),
};

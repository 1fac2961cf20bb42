// Every setting of weftctl that a context, a WEFT_CTL_* variable or a flag can give, declared
// once: the global flags, the environment variables, the keys of the contexts file and the
// README's table all come from this list. weftctl is a CLI, not a daemon: it reads only these
// variables, and a daemon never sees them (they are not its options).
import { fileURLToPath } from 'node:url';

/** The admin token `npm start` writes in this checkout's state directory (.weft/admin.token). */
const LOCAL_ADMIN_TOKEN = fileURLToPath(new URL('../../../.weft/admin.token', import.meta.url));

export interface Setting {
  /** Key in a context of the contexts file, and the flag (--<key>). */
  key: SettingKey;
  env: string;
  describe: string;
  /** The value of the built-in `local` context: what `npm start` runs on this machine. */
  local?: string;
  /** Kept out of `config view` and every message. */
  secret?: boolean;
  boolean?: boolean;
}

export type SettingKey =
  | 'config-api'
  | 'config-api-grpc'
  | 'control'
  | 'analytics'
  | 'project'
  | 'token'
  | 'token-file'
  | 'tls-ca'
  | 'tls-cert'
  | 'tls-key'
  | 'insecure-skip-tls-verify';

export const SETTINGS: readonly Setting[] = [
  {
    key: 'config-api',
    env: 'WEFT_CTL_CONFIG_API',
    describe: "config-api's REST URL (the VNC API)",
    local: 'http://127.0.0.1:8082',
  },
  {
    key: 'config-api-grpc',
    env: 'WEFT_CTL_CONFIG_API_GRPC',
    describe: "config-api's gRPC address, host:port (watch)",
    local: '127.0.0.1:8090',
  },
  { key: 'control', env: 'WEFT_CTL_CONTROL', describe: "control's introspection URL", local: 'http://127.0.0.1:8083' },
  { key: 'analytics', env: 'WEFT_CTL_ANALYTICS', describe: "analytics' REST URL", local: 'http://127.0.0.1:8081' },
  {
    key: 'project',
    env: 'WEFT_CTL_PROJECT',
    describe: 'project of short names (`red` is <project>:red)',
    local: 'default-domain:default-project',
  },
  {
    key: 'token',
    env: 'WEFT_CTL_TOKEN',
    describe: 'token sent as Authorization: Bearer and X-Auth-Token',
    secret: true,
  },
  {
    key: 'token-file',
    env: 'WEFT_CTL_TOKEN_FILE',
    describe: 'file holding the token, when --token is not given (`npm start` writes .weft/admin.token)',
    local: LOCAL_ADMIN_TOKEN,
  },
  { key: 'tls-ca', env: 'WEFT_CTL_TLS_CA', describe: 'CA certificates (PEM file) to trust for https and gRPC' },
  { key: 'tls-cert', env: 'WEFT_CTL_TLS_CERT', describe: 'client certificate (PEM file) for mutual TLS' },
  { key: 'tls-key', env: 'WEFT_CTL_TLS_KEY', describe: "the client certificate's key (PEM file)" },
  {
    key: 'insecure-skip-tls-verify',
    env: 'WEFT_CTL_INSECURE_SKIP_TLS_VERIFY',
    describe: "do not check servers' certificates (testing only)",
    boolean: true,
  },
];

/** Where contexts live, and which one is used: the two settings that choose the others. */
export const CONFIG_FILE = {
  env: 'WEFT_CTL_CONFIG',
  describe: 'the contexts file',
  default: '~/.weft/weftctl.yaml',
} as const;
export const CONTEXT = { env: 'WEFT_CTL_CONTEXT', describe: 'the context to use (default: the current one)' } as const;

/** Every variable weftctl reads. */
export const ENVIRONMENT = [CONFIG_FILE.env, CONTEXT.env, ...SETTINGS.map((setting) => setting.env)];

// Helpers for tests that run the stack or the lab as a user would, from the checkout.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@weft/kit/testing';

/** The checkout's top folder (test/dist/support → ../../..). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Free ports for every service of the stack, so a test's stack never collides with another. */
export async function stackPortEnv(): Promise<Record<string, string>> {
  const names = [
    'WEFT_CONFIG_API_REST_PORT',
    'WEFT_CONFIG_API_GRPC_PORT',
    'WEFT_CONTROL_AGENT_PORT',
    'WEFT_CONTROL_HTTP_PORT',
    'WEFT_REST_PORT',
    'WEFT_AGENT_HTTP_PORT',
    'WEFT_AGENT_TUNNEL_PORT',
  ];
  const env: Record<string, string> = {};
  for (const name of names) env[name] = String(await freePort());
  return env;
}

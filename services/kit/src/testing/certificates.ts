// A self-signed certificate for 127.0.0.1 and localhost, for tests of TLS on loopback.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/** Why certificates cannot be made here, or undefined when they can; a test skips with this. */
export function opensslMissing(): string | undefined {
  return spawnSync('openssl', ['version']).status === 0
    ? undefined
    : 'openssl is not installed to make test certificates';
}

export function selfSignedCertificate(): { certFile: string; keyFile: string; remove: () => void } {
  const dir = tempDir('weft-tls-');
  const certFile = join(dir.path, 'cert.pem');
  const keyFile = join(dir.path, 'key.pem');
  const made = spawnSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr?.toString()}`);
  return { certFile, keyFile, remove: dir.remove };
}

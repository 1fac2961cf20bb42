// The local certificate authority of `npm start` and `npm run lab`: one CA under <dir>, and a
// key and certificate per identity, signed by it, for mutual TLS on the internal links (gRPC,
// NATS). An agent's certificate names its host (CN and SAN), which is what control believes
// about who it is. Made with Debian's openssl CLI (deploy/setup.mjs installs it); what exists is
// kept, so a restarted stack keeps its authority and its agents' identities.
//
// Plain JavaScript without dependencies, like the scripts that use it.
//
//   node deploy/certificates.mjs DIR NAME[,SAN…]…   makes (or keeps) the CA and these identities
//                                                   (a SAN is a DNS name, an IP address or a URI)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const DAYS = '825';

function openssl(args) {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.error?.code === 'ENOENT') {
    throw new Error('openssl is not installed: run `node deploy/setup.mjs start` as root, or apt-get install openssl');
  }
  if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.trim()}`);
}

/** The CA's files under `dir`, made when missing: { caFile, caKeyFile }. */
export function ensureAuthority(dir, name = 'weft-local-ca') {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, 'ca.pem');
  const caKeyFile = join(dir, 'ca.key');
  if (!existsSync(caFile) || !existsSync(caKeyFile)) {
    openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      DAYS,
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout',
      caKeyFile,
      '-out',
      caFile,
    ]);
  }
  return { caFile, caKeyFile };
}

/** Where the identity `name` of the authority under `dir` is kept (made or not). */
export function identityPaths(dir, name) {
  return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`), caFile: join(dir, 'ca.pem') };
}

/**
 * A key and certificate for `name` (its CN and first SAN), signed by the CA under `dir`, good
 * for both ends of a link; `altNames` are further DNS names or IP addresses it answers on, and
 * URIs it is known by (a service's urn:weft:service:<name>, which NATS maps to its user).
 * Returns { certFile, keyFile, caFile }; an existing pair is kept.
 */
export function ensureIdentity(dir, name, altNames = []) {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
    throw new Error(`certificate name ${JSON.stringify(name)} is not a host name`);
  const { caFile, caKeyFile } = ensureAuthority(dir);
  const { certFile, keyFile } = identityPaths(dir, name);
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile, caFile };
  const sans = [name, ...altNames.filter((alt) => alt !== name)].map((alt) => {
    if (isIP(alt)) return `IP:${alt}`;
    return /^[a-z][a-z0-9+.-]*:/i.test(alt) ? `URI:${alt}` : `DNS:${alt}`;
  });
  const requestFile = join(dir, `${name}.csr`);
  openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-addext',
    `subjectAltName=${sans.join(',')}`,
    '-addext',
    'extendedKeyUsage=serverAuth,clientAuth',
    '-keyout',
    keyFile,
    '-out',
    requestFile,
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    requestFile,
    '-CA',
    caFile,
    '-CAkey',
    caKeyFile,
    '-CAcreateserial',
    '-copy_extensions',
    'copy',
    '-days',
    DAYS,
    '-out',
    certFile,
  ]);
  rmSync(requestFile, { force: true });
  return { certFile, keyFile, caFile };
}

/** The WEFT_TLS_* options of a daemon that uses this identity. */
export function tlsOptions({ certFile, keyFile, caFile }) {
  return { WEFT_TLS_CERT: certFile, WEFT_TLS_KEY: keyFile, WEFT_TLS_CA: caFile };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [dir, ...identities] = process.argv.slice(2);
  if (!dir || identities.length === 0) {
    process.stderr.write('usage: node deploy/certificates.mjs DIR NAME[,SAN…]…\n');
    process.exit(2);
  }
  for (const identity of identities) {
    const [name, ...altNames] = identity.split(',');
    process.stdout.write(`${JSON.stringify({ name, ...ensureIdentity(resolve(dir), name, altNames) })}\n`);
  }
}

// The lab's certificates: the local authority of deploy/certificates.mjs (the one `npm start`
// uses) under <lab dir>/tls, an identity per controller service and one per host, named by the
// host, as control checks it.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../support/stack.js';

export interface TlsIdentity {
  certFile: string;
  keyFile: string;
  caFile: string;
}

interface CertificatesModule {
  ensureIdentity(dir: string, name: string, altNames?: string[]): TlsIdentity;
  identityPaths(dir: string, name: string): TlsIdentity;
  tlsOptions(identity: TlsIdentity): Record<string, string>;
}

const certificates = (await import(
  pathToFileURL(join(repoRoot, 'deploy', 'certificates.mjs')).href
)) as CertificatesModule;

export const tlsDirOf = (labDir: string) => join(labDir, 'tls');

/** A key and certificate for `name` signed by the authority under `dir` (made when missing). */
export function identity(dir: string, name: string, altNames: string[] = []): TlsIdentity {
  return certificates.ensureIdentity(dir, name, altNames);
}

/** Where the identity `name` is kept, made or not. */
export function identityPaths(dir: string, name: string): TlsIdentity {
  return certificates.identityPaths(dir, name);
}

/** The WEFT_TLS_* options of a daemon with this identity. */
export function tlsOptions(files: TlsIdentity): Record<string, string> {
  return certificates.tlsOptions(files);
}

// Who an agent is, proven by its client certificate (mutual TLS on the Agent port): the host
// names the certificate carries, its subject CN and DNS subject alternative names. The hello
// must name one of them; a certificate from another authority never gets this far (the TLS
// handshake refuses it), and without a certificate authority configured control has no proof
// and believes the hello, as on one machine without TLS.
import type { PeerCertificate } from 'node:tls';
import type { WeftError } from '@weft/kit';
import { errors } from '../errors.js';

/** The host names a certificate proves: CN, then DNS SANs, without repeats. */
export function certificateNames(certificate: PeerCertificate | undefined): string[] {
  if (!certificate) return [];
  const names: string[] = [];
  const cn = certificate.subject?.CN as string | string[] | undefined;
  for (const name of Array.isArray(cn) ? cn : cn ? [cn] : []) names.push(name);
  for (const entry of (certificate.subjectaltname ?? '').split(',')) {
    const [kind, value] = entry.trim().split(/:(.*)/s) as [string, string | undefined];
    if (kind === 'DNS' && value) names.push(value);
  }
  return [...new Set(names)];
}

/**
 * Whether the hello's host name is proven: undefined when it is, else the error that refuses
 * the session. `required` is true when control checks client certificates (a CA is configured).
 */
export function checkAgentIdentity(
  hostName: string,
  certificate: PeerCertificate | undefined,
  required: boolean,
): WeftError | undefined {
  if (!required && !certificate) return undefined;
  const names = certificateNames(certificate);
  if (names.length === 0) return errors.AGENT_NOT_PROVEN({ host: hostName });
  if (!names.includes(hostName)) return errors.AGENT_NOT_THIS_HOST({ host: hostName, names });
  return undefined;
}

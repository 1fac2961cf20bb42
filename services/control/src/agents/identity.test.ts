import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { certificateNames, checkAgentIdentity } from './identity.js';

const certificate = (cn: string, subjectaltname?: string) =>
  ({ subject: { CN: cn }, ...(subjectaltname ? { subjectaltname } : {}) }) as unknown as PeerCertificate;

test("a certificate's host names are its CN and its DNS alternative names, not its addresses", () => {
  assert.deepEqual(certificateNames(certificate('h1', 'DNS:h1, DNS:h1.lab, IP Address:10.0.0.1')), ['h1', 'h1.lab']);
  assert.deepEqual(certificateNames(undefined), []);
});

test('a hello is proven only by a certificate that names its host; without a CA the hello is believed', () => {
  assert.equal(checkAgentIdentity('h1', certificate('h1', 'DNS:h1'), true), undefined);
  assert.equal(checkAgentIdentity('h1.lab', certificate('h1', 'DNS:h1, DNS:h1.lab'), true), undefined);
  const other = checkAgentIdentity('h2', certificate('h1', 'DNS:h1'), true);
  assert.equal(other?.code, 'AGENT_NOT_THIS_HOST');
  assert.match(other!.message, /hello\.host_name: "h2" is not a name of the client certificate \(h1\)/);
  assert.equal(checkAgentIdentity('h1', undefined, true)?.code, 'AGENT_NOT_PROVEN');
  // No CA configured (one machine, plaintext): nothing to check against.
  assert.equal(checkAgentIdentity('h1', undefined, false), undefined);
  // A certificate presented anyway must still agree.
  assert.equal(checkAgentIdentity('h2', certificate('h1'), false)?.code, 'AGENT_NOT_THIS_HOST');
});

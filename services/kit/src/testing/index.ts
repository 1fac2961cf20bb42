// What tests of every package may use: real servers started on loopback, and waiting with a
// deadline. Not part of any daemon.

export { opensslMissing, selfSignedCertificate } from './certificates.js';
export { IdentityProvider, type TokenClaims } from './identity-provider.js';
export { type NatsServerProcess, natsServerMissing, startNatsServer } from './nats-server.js';
export { freePort, portAccepts } from './ports.js';
export { tempDir } from './temp-dir.js';
export { waitFor } from './wait.js';

// The container HEALTHCHECK of every Weft image: exit 0 when the daemon's /healthz answers 200.
//   node healthcheck.mjs PORT_VARIABLE DEFAULT_PORT [HOST_VARIABLE]
// The port and listen address come from the daemon's own options (its WEFT_* variables), so
// moving the daemon moves the check with it; so does HTTPS (WEFT_HTTP_TLS). The check asks the
// daemon in its own container whether it lives: it does not verify the certificate, whose
// names are the ones peers use, not loopback's.
const [portVariable, fallbackPort, hostVariable] = process.argv.slice(2);
const port = process.env[portVariable] || fallbackPort;
const listen = (hostVariable && process.env[hostVariable]) || '127.0.0.1';
const host = ['0.0.0.0', '::', ''].includes(listen) ? '127.0.0.1' : listen.includes(':') ? `[${listen}]` : listen;
try {
  if (process.env.WEFT_HTTP_TLS === 'true') {
    const { get } = await import('node:https');
    const request = get({
      host: host.replace(/^\[|\]$/g, ''),
      port,
      path: '/healthz',
      rejectUnauthorized: false,
      timeout: 2500,
    });
    request.on('response', (response) => process.exit(response.statusCode === 200 ? 0 : 1));
    request.on('error', () => process.exit(1));
    request.on('timeout', () => process.exit(1));
  } else {
    const response = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
    process.exit(response.ok ? 0 : 1);
  }
} catch {
  process.exit(1);
}

// The container HEALTHCHECK of every Weft image: exit 0 when the daemon's /healthz answers 200.
//   node healthcheck.mjs PORT_VARIABLE DEFAULT_PORT [HOST_VARIABLE]
// The port and listen address come from the daemon's own options (its WEFT_* variables), so
// moving the daemon moves the check with it.
const [portVariable, fallbackPort, hostVariable] = process.argv.slice(2);
const port = process.env[portVariable] || fallbackPort;
const listen = (hostVariable && process.env[hostVariable]) || '127.0.0.1';
const host = ['0.0.0.0', '::', ''].includes(listen) ? '127.0.0.1' : listen.includes(':') ? `[${listen}]` : listen;
try {
  const response = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}

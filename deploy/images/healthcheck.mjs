// The container HEALTHCHECK of every Weft image: exit 0 when the daemon's /healthz answers 200.
//   node healthcheck.mjs PORT_VARIABLE DEFAULT_PORT
// The port comes from the daemon's own option (its WEFT_* variable), so moving the port moves
// the check with it.
const [variable, fallback] = process.argv.slice(2);
const port = process.env[variable] || fallback;
try {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2500) });
  process.exit(response.ok ? 0 : 1);
} catch {
  process.exit(1);
}

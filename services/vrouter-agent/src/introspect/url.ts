// Where others reach this agent's HTTP port (introspect_url in the vrouter UVE, which weftctl
// datapath and probe follow): the listen address, or the underlay address when it listens on
// every address; https when its HTTP runs TLS (WEFT_HTTP_TLS, as the chart sets it by default).

/** A wildcard listen address is reached at the underlay address; an IPv6 one goes in brackets. */
export function introspectUrlOf(options: {
  httpHost: string;
  httpPort: number;
  underlayAddress: string;
  https: boolean;
}): string {
  const { httpHost, httpPort, underlayAddress, https } = options;
  const host = /^(0\.0\.0\.0|::|\[::\])$/.test(httpHost) ? underlayAddress : httpHost;
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${https ? 'https' : 'http'}://${bracketed}:${httpPort}`;
}

// Finds the underlay when it is not configured: the device of the default route and its first
// IPv4 address, which is what a host of a cluster uses to reach the others.
import { execFileSync } from 'node:child_process';

export function defaultRouteDevice(): string | undefined {
  try {
    const routes = JSON.parse(execFileSync('ip', ['-j', 'route', 'show', 'default'], { encoding: 'utf8' })) as {
      dev?: string;
    }[];
    return routes.find((route) => route.dev)?.dev;
  } catch {
    return undefined;
  }
}

export function firstIpv4Address(device: string): string | undefined {
  try {
    const [link] = JSON.parse(
      execFileSync('ip', ['-j', '-4', 'addr', 'show', 'dev', device], { encoding: 'utf8' }),
    ) as {
      addr_info?: { local: string }[];
    }[];
    return link?.addr_info?.[0]?.local;
  } catch {
    return undefined;
  }
}

export function linkMtu(device: string): number | undefined {
  try {
    const [link] = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'dev', device], { encoding: 'utf8' })) as {
      mtu: number;
    }[];
    return link?.mtu;
  } catch {
    return undefined;
  }
}

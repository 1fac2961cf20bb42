// The parts of Tungsten Fabric VNC API objects that control reads, typed loosely: config-api
// validated them, so control only guards against what is optional.

export type VncObject = Record<string, unknown>;

export interface Ref {
  to?: string[];
  uuid: string;
  attr?: Record<string, unknown> | null;
}

export interface Subnet {
  ip_prefix: string;
  ip_prefix_len: number;
}

export interface IpamSubnet {
  subnet?: Subnet;
  default_gateway?: string;
  dns_server_address?: string;
}

export interface PortRangeVnc {
  start_port: number;
  end_port: number;
}

export interface AddressVnc {
  virtual_network?: string;
  security_group?: string;
  subnet?: Subnet;
  subnet_list?: Subnet[];
}

export interface PolicyRuleVnc {
  direction?: '>' | '<>';
  protocol?: string;
  src_addresses?: AddressVnc[];
  dst_addresses?: AddressVnc[];
  src_ports?: PortRangeVnc[];
  dst_ports?: PortRangeVnc[];
  action_list?: { simple_action?: 'pass' | 'deny' };
}

export function refs(object: VncObject, field: string): Ref[] {
  const value = object[field];
  return Array.isArray(value) ? (value as Ref[]).filter((ref) => ref && typeof ref.uuid === 'string') : [];
}

export function firstRefUuid(object: VncObject, field: string): string | undefined {
  return refs(object, field)[0]?.uuid;
}

export function property<T>(object: VncObject, ...path: string[]): T | undefined {
  let value: unknown = object;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value === null ? undefined : (value as T | undefined);
}

/** The value of `key` in a KeyValuePairs property (bindings, annotations). */
export function keyValue(object: VncObject, field: string, key: string): string | undefined {
  const pairs = property<{ key: string; value?: string }[]>(object, field, 'key_value_pair') ?? [];
  return pairs.find((pair) => pair.key === key)?.value;
}

export function policyRules(object: VncObject, field: string): PolicyRuleVnc[] {
  return property<PolicyRuleVnc[]>(object, field, 'policy_rule') ?? [];
}

/** The routing instance of a virtual network is named like Tungsten Fabric's: fq_name + name. */
export function routingInstanceName(networkFqName: readonly string[]): string {
  return [...networkFqName, networkFqName[networkFqName.length - 1]].join(':');
}

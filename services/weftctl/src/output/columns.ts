// The columns of `weftctl get`: NAME and AGE for every type, UUID and the references in wide
// output, and for the types people look at most a few columns of what matters in them. Types
// with no entry here print the common columns; the full object is always one -o yaml away.
import type { VncObject } from '../api/config-api.js';
import { age, type Column } from './table.js';

type Obj = VncObject;

const last = (fqName: unknown) => (Array.isArray(fqName) ? String(fqName[fqName.length - 1] ?? '') : '');
const refs = (object: Obj, field: string) => (object[field] as { to?: string[] }[] | undefined) ?? [];
const refNames = (object: Obj, field: string) =>
  refs(object, field)
    .map((ref) => last(ref.to))
    .join(',');
const keyValue = (object: Obj, field: string, key: string) =>
  (object[field] as { key_value_pair?: { key: string; value: string }[] } | undefined)?.key_value_pair?.find(
    (pair) => pair.key === key,
  )?.value ?? '';
const rules = (object: Obj, field: string) =>
  String(((object[field] as { policy_rule?: unknown[] } | undefined)?.policy_rule ?? []).length);

function subnets(object: Obj): string {
  const found: string[] = [];
  for (const ref of refs(object, 'network_ipam_refs') as {
    attr?: { ipam_subnets?: { subnet?: { ip_prefix: string; ip_prefix_len: number } }[] };
  }[]) {
    for (const entry of ref.attr?.ipam_subnets ?? []) {
      if (entry.subnet) found.push(`${entry.subnet.ip_prefix}/${entry.subnet.ip_prefix_len}`);
    }
  }
  return found.join(',');
}

const column = (heading: string, value: (object: Obj) => string): Column<Obj> => ({ heading, value });

/** Columns that say what an object of these types is, beside its name. */
const SUMMARY: Record<string, Column<Obj>[]> = {
  'virtual-network': [
    column('SUBNETS', subnets),
    column('VNI', (o) =>
      String(
        (o.virtual_network_properties as { vxlan_network_identifier?: number } | undefined)?.vxlan_network_identifier ??
          '',
      ),
    ),
    column('POLICIES', (o) => refNames(o, 'network_policy_refs')),
  ],
  'virtual-machine-interface': [
    column('NETWORK', (o) => refNames(o, 'virtual_network_refs')),
    column('MAC', (o) =>
      ((o.virtual_machine_interface_mac_addresses as { mac_address?: string[] } | undefined)?.mac_address ?? []).join(
        ',',
      ),
    ),
    column('HOST', (o) => keyValue(o, 'virtual_machine_interface_bindings', 'host_id')),
  ],
  'instance-ip': [
    column('ADDRESS', (o) => String(o.instance_ip_address ?? '')),
    column('NETWORK', (o) => refNames(o, 'virtual_network_refs')),
  ],
  'floating-ip': [column('ADDRESS', (o) => String(o.floating_ip_address ?? ''))],
  'network-policy': [column('RULES', (o) => rules(o, 'network_policy_entries'))],
  'security-group': [
    column('ID', (o) => String(o.security_group_id ?? '')),
    column('RULES', (o) => rules(o, 'security_group_entries')),
  ],
  'virtual-router': [column('ADDRESS', (o) => String(o.virtual_router_ip_address ?? ''))],
  'virtual-machine': [column('INTERFACES', (o) => String(refs(o, 'virtual_machine_interface_back_refs').length))],
};

export function resourceColumns(type: string, wide: boolean): Column<Obj>[] {
  const columns: Column<Obj>[] = [column('NAME', (o) => o.fq_name.join(':')), ...(SUMMARY[type] ?? [])];
  columns.push(column('AGE', (o) => age(o.id_perms?.created)));
  if (wide) {
    columns.push(column('UUID', (o) => o.uuid));
    columns.push(
      column('REFERS TO', (o) =>
        Object.keys(o)
          .filter((key) => key.endsWith('_refs') && !key.endsWith('_back_refs') && refs(o, key).length > 0)
          .map((key) => `${key.slice(0, -5)}=${refNames(o, key)}`)
          .sort()
          .join(' '),
      ),
    );
  }
  return columns;
}

// What every compiler reads of VNC objects the same way: the uuids of a reference list, fq_name
// strings, and the name of a virtual network's routing instance. The objects themselves are
// typed by @weft/model; config-api validated them, so only what is optional is guarded.

/** The uuids a reference list points at, in order; a reference without one is skipped. */
export function refUuids(refs: readonly { uuid?: string }[] | undefined): string[] {
  const uuids: string[] = [];
  for (const ref of refs ?? []) if (typeof ref?.uuid === 'string') uuids.push(ref.uuid);
  return uuids;
}

export function firstRefUuid(refs: readonly { uuid?: string }[] | undefined): string | undefined {
  for (const ref of refs ?? []) if (typeof ref?.uuid === 'string') return ref.uuid;
  return undefined;
}

/** "default-domain:project:red": how policy rules and ACL names spell an fq_name. */
export function fqString(fqName: readonly string[]): string {
  return fqName.join(':');
}

/** The routing instance of a virtual network is named like Tungsten Fabric's: fq_name + name. */
export function routingInstanceName(networkFqName: readonly string[]): string {
  return [...networkFqName, networkFqName[networkFqName.length - 1]].join(':');
}

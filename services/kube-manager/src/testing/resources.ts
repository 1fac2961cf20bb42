// The resource types the stand-in Kubernetes API server serves: where each lives in the URL
// space (group, version, plural), its kind, and whether it sits in a namespace. The shapes of
// the objects themselves are the caller's: the stand-in stores what it is given.

export interface ResourceType {
  /** '' for the core group (served under /api/v1), else the API group (served under /apis/<group>/<version>). */
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Subresources that replace only `status` (PUT/PATCH …/<name>/status). */
  statusSubresource: boolean;
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, statusSubresource: true },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, statusSubresource: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, statusSubresource: true },
  {
    group: 'k8s.cni.cncf.io',
    version: 'v1',
    plural: 'network-attachment-definitions',
    kind: 'NetworkAttachmentDefinition',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'networkpolicies',
    kind: 'NetworkPolicy',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    kind: 'EndpointSlice',
    namespaced: true,
    statusSubresource: false,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    kind: 'Lease',
    namespaced: true,
    statusSubresource: false,
  },
];

/** `v1` or `<group>/<version>`: the apiVersion of the type's objects. */
export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export function findType(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((type) => type.group === group && type.version === version && type.plural === plural);
}

// A stand-in for Tungsten Fabric's own Python client (vnc_api.VncApi in tf-api-client), for
// tests: it makes the requests that client's code makes, byte for byte where it matters. TF's
// client cannot run here (it comes from PyPI, which is out of reach, and its generated half is
// built from TF's schema at install time), so this replays it from its source:
//   - it starts with GET / and takes every path from the root page's links, by link name, with
//     the page's href stripped off (VncApi._parse_homepage); a missing link fails the call;
//   - every request carries Content-type: application/json; charset="UTF-8" and
//     X-Contrail-Useragent, a DELETE too, with Content-Length: 0 (python-requests);
//   - objects are written as the generated classes serialize them: "uuid" always (null when not
//     set), fq_name and parent_type, the properties set, references as {to, attr, uuid}, and
//     each property object with every attribute of its schema type, null or its default;
//   - query parameters are python's: booleans True/False, lists comma-joined, filters as
//     field==<json>; lists of more than 25 ids go to POST /list-bulk-collection;
//   - answers map onto the client's exceptions by status (404 NoIdError, 409 RefsExistError…).

import { Agent, request as httpRequest } from 'node:http';
import { hostname } from 'node:os';

type Body = Record<string, unknown>;

export type VncErrorKind =
  | 'NoIdError'
  | 'RefsExistError'
  | 'BadRequest'
  | 'PermissionDenied'
  | 'AuthFailed'
  | 'OverQuota'
  | 'RequestSizeError'
  | 'ServiceUnavailableError'
  | 'HttpError';

/** One of vnc_api's exceptions, by the status of the answer that raised it. */
export class VncError extends Error {
  constructor(
    readonly kind: VncErrorKind,
    readonly status: number,
    readonly content: string,
  ) {
    super(`${kind} (${status}): ${content}`);
  }
}

const EXCEPTION_BY_STATUS: Record<number, VncErrorKind> = {
  400: 'BadRequest',
  401: 'AuthFailed',
  403: 'PermissionDenied',
  404: 'NoIdError',
  409: 'RefsExistError',
  412: 'OverQuota',
  413: 'RequestSizeError',
  502: 'ServiceUnavailableError',
  503: 'ServiceUnavailableError',
};

/**
 * The attributes of TF's schema types the tests write, with the defaults TF's schema gives them
 * (the generated classes set every one, null when it has no default).
 */
const SCHEMA_TYPES: Record<string, Body> = {
  IdPermsType: {
    permissions: null,
    uuid: null,
    enable: null,
    created: null,
    last_modified: null,
    description: null,
    user_visible: true,
    creator: null,
  },
  PermType2: { owner: null, owner_access: 7, global_access: 0, share: null },
  KeyValuePair: { key: null, value: null },
  KeyValuePairs: { key_value_pair: null },
  SubnetType: { ip_prefix: null, ip_prefix_len: null },
  SubnetListType: { subnet: null },
  IpamSubnetType: {
    subnet: null,
    default_gateway: null,
    dns_server_address: null,
    subnet_uuid: null,
    enable_dhcp: true,
    dns_nameservers: null,
    allocation_pools: null,
    addr_from_start: null,
    dhcp_option_list: null,
    host_routes: null,
    subnet_name: null,
    alloc_unit: 1,
    created: null,
    last_modified: null,
    subscriber_tag: null,
    vlan_tag: null,
    dhcp_relay_server: null,
  },
  VnSubnetsType: { ipam_subnets: null, host_routes: null },
  VirtualNetworkType: {
    allow_transit: null,
    network_id: null,
    vxlan_network_identifier: null,
    forwarding_mode: null,
    rpf: null,
    mirror_destination: false,
    max_flows: 0,
  },
  SequenceType: { major: null, minor: null },
  VirtualNetworkPolicyType: { sequence: null, timer: null },
  MacAddressesType: { mac_address: null },
  QuotaType: {
    defaults: null,
    floating_ip: null,
    instance_ip: null,
    virtual_machine_interface: null,
    virtual_network: null,
    virtual_router: null,
    virtual_DNS: null,
    virtual_DNS_record: null,
    bgp_router: null,
    network_ipam: null,
    access_control_list: null,
    network_policy: null,
    floating_ip_pool: null,
    service_template: null,
    service_instance: null,
    logical_router: null,
    security_group: null,
    security_group_rule: null,
    subnet: null,
    global_vrouter_config: null,
    loadbalancer_pool: null,
    loadbalancer_member: null,
    loadbalancer_healthmonitor: null,
    virtual_ip: null,
    security_logging_object: null,
    route_table: null,
    firewall_group: null,
    firewall_policy: null,
    firewall_rule: null,
    host_based_service: 0,
  },
  PortType: { start_port: 0, end_port: 65535 },
  ActionListType: {
    simple_action: null,
    gateway_name: null,
    apply_service: null,
    mirror_to: null,
    assign_routing_instance: null,
    log: false,
    alert: false,
    qos_action: null,
    host_based_service: false,
  },
  FirewallServiceType: { protocol: null, protocol_id: null, src_ports: null, dst_ports: null },
  FirewallServiceGroupType: { firewall_service: null },
  FirewallRuleEndpointType: {
    subnet: null,
    virtual_network: null,
    address_group: null,
    tags: null,
    tag_ids: null,
    any: null,
  },
  FirewallRuleMatchTagsType: { tag_list: null },
  FirewallSequence: { sequence: null },
  RouteTargetList: { route_target: null },
  RouteType: { prefix: null, next_hop: null, next_hop_type: null, community_attributes: null },
  RouteTableType: { route: null },
  LogicalRouterVirtualNetworkType: { logical_router_virtual_network_type: 'ExternalGateway' },
  VirtualDnsType: {
    domain_name: null,
    dynamic_records_from_client: null,
    record_order: 'random',
    default_ttl_seconds: null,
    next_virtual_DNS: null,
    floating_ip_record: null,
    external_visible: false,
    reverse_resolution: false,
    soa_record: null,
  },
  BgpRouterParams: {
    admin_down: false,
    vendor: null,
    cluster_id: null,
    autonomous_system: null,
    identifier: null,
    address: null,
    port: 179,
    source_port: null,
    hold_time: 0,
    address_families: null,
    auth_data: null,
    local_autonomous_system: null,
    router_type: null,
    gateway_address: null,
    ipv6_gateway_address: null,
  },
  AddressFamilies: { family: null },
  LoadbalancerType: {
    status: null,
    provisioning_status: null,
    operating_status: null,
    vip_subnet_id: null,
    vip_address: null,
    admin_state: true,
  },
  LoadbalancerListenerType: {
    protocol: null,
    protocol_port: null,
    admin_state: true,
    connection_limit: null,
    default_tls_container: null,
    sni_containers: null,
  },
  LoadbalancerPoolType: {
    status: null,
    status_description: null,
    admin_state: true,
    protocol: null,
    loadbalancer_method: null,
    subnet_id: null,
    session_persistence: null,
    persistence_cookie_name: null,
  },
  LoadbalancerMemberType: {
    admin_state: true,
    status: null,
    status_description: null,
    protocol_port: null,
    weight: 1,
    address: null,
    subnet_id: null,
  },
  LoadbalancerHealthmonitorType: {
    admin_state: true,
    monitor_type: null,
    delay: null,
    timeout: null,
    max_retries: null,
    http_method: null,
    url_path: null,
    expected_codes: null,
  },
};

/** A property object as the generated class serializes it: every attribute, set, defaulted or null. */
export function xsd(typeName: keyof typeof SCHEMA_TYPES, values: Body = {}): Body {
  const attributes = SCHEMA_TYPES[typeName];
  if (!attributes) throw new Error(`no schema type ${typeName} in the client`);
  for (const key of Object.keys(values)) {
    if (!(key in attributes)) throw new Error(`${typeName} has no attribute ${key}`);
  }
  return { ...attributes, ...values };
}

/** A reference as add_<type>(ref_obj, ref_data) builds it: to, attr (null when none), uuid when known. */
export function refTo(object: { fq_name: string[]; uuid?: string | null }, attr: unknown = null): Body {
  return { to: object.fq_name, attr, ...(object.uuid ? { uuid: object.uuid } : {}) };
}

/** A resource object of the generated classes: its identity and the fields set on it (pending). */
export interface VncObject {
  type: string;
  fq_name: string[];
  parent_type?: string;
  uuid?: string | null;
  /** Properties and references set on the object since it was read (or all, when new). */
  pending: Body;
}

export function vncObject(type: string, fqName: string[], fields: Body = {}, parentType?: string): VncObject {
  return { type, fq_name: fqName, ...(parentType ? { parent_type: parentType } : {}), uuid: null, pending: fields };
}

export interface ListOptions {
  parent_id?: string | string[];
  parent_fq_name?: string[];
  back_ref_id?: string | string[];
  obj_uuids?: string[];
  fq_names?: string[][];
  fields?: string[];
  detail?: boolean;
  count?: boolean;
  filters?: Record<string, unknown>;
  shared?: boolean;
}

/** vnc_api's POST_FOR_LIST_THRESHOLD: longer id lists go to list-bulk-collection. */
const POST_FOR_LIST_THRESHOLD = 25;

export class VncClient {
  readonly #url: URL;
  readonly #agent = new Agent({ keepAlive: true });
  readonly #headers: Record<string, string> = {
    'Content-type': 'application/json; charset="UTF-8"',
    'X-Contrail-Useragent': `${hostname()}:vnc-client.test`,
    'User-Agent': 'python-requests/2.31.0',
    Accept: '*/*',
    'Accept-Encoding': 'gzip, deflate',
  };
  /** The root page's href: stripped from every link to get a path. */
  root = '';
  readonly createUri = new Map<string, string>();
  readonly resourceBase = new Map<string, string>();
  readonly actionUri = new Map<string, string>();
  /** Every request made: method, path and query, for tests to look at. */
  readonly requests: { method: string; path: string; headers: Record<string, string>; body?: string }[] = [];

  constructor(baseUrl: string) {
    this.#url = new URL(baseUrl);
  }

  /** VncApi(): reads the root page, as the client does before anything else. */
  static async connect(baseUrl: string): Promise<VncClient> {
    const client = new VncClient(baseUrl);
    await client.readHomepage();
    return client;
  }

  close(): void {
    this.#agent.destroy();
  }

  async readHomepage(): Promise<Body> {
    const homepage = JSON.parse(await this.#request('GET', '/')) as {
      href: string;
      links: { link: { rel: string; href: string; name: string } }[];
    };
    this.root = homepage.href;
    for (const { link } of homepage.links) {
      const uri = link.href.replace(this.root, '');
      if (link.rel === 'collection') this.createUri.set(link.name, uri);
      else if (link.rel === 'resource-base') this.resourceBase.set(link.name, uri);
      else if (link.rel === 'action') this.actionUri.set(link.name, uri);
    }
    return homepage;
  }

  #action(name: string): string {
    const uri = this.actionUri.get(name);
    if (!uri) throw new Error(`the root page has no action ${name}`);
    return uri;
  }

  #collection(type: string): string {
    const uri = this.createUri.get(type);
    if (!uri) throw new Error(`the root page has no collection for ${type}`);
    return uri;
  }

  #base(type: string): string {
    const uri = this.resourceBase.get(type);
    if (!uri) throw new Error(`the root page has no resource base for ${type}`);
    return uri;
  }

  /** One HTTP exchange the way python-requests makes it; raises as VncApi._request does. */
  async #request(method: string, path: string, options: { query?: URLSearchParams; data?: string } = {}) {
    const headers: Record<string, string> = { ...this.#headers };
    if (options.data !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.data));
    else if (method !== 'GET' && method !== 'HEAD') headers['Content-Length'] = '0';
    const query = options.query?.toString();
    const fullPath = query ? `${path}?${query}` : path;
    this.requests.push({
      method,
      path: fullPath,
      headers,
      ...(options.data !== undefined ? { body: options.data } : {}),
    });
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const call = httpRequest(
        { host: this.#url.hostname, port: this.#url.port, method, path: fullPath, headers, agent: this.#agent },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          response.on('error', reject);
        },
      );
      call.on('error', reject);
      call.end(options.data);
    });
    if (status === 200 || status === 202) return text;
    throw new VncError(EXCEPTION_BY_STATUS[status] ?? 'HttpError', status, text);
  }

  #json = async (method: string, path: string, body: unknown): Promise<Body> => {
    const text = await this.#request(method, path, { data: JSON.stringify(body) });
    return text === '' ? {} : (JSON.parse(text) as Body);
  };

  // ---- objects (VncApi._object_create, _read, _update, _delete) ----

  /** <type>_create(obj): POST on the collection; sets uuid and fq_name on the object. */
  async create(object: VncObject): Promise<string> {
    const serialized: Body = {
      uuid: object.uuid ?? null,
      fq_name: object.fq_name,
      ...(object.parent_type ? { parent_type: object.parent_type } : {}),
      ...object.pending,
    };
    const answer = await this.#json('POST', this.#collection(object.type), { [object.type]: serialized });
    const created = answer[object.type] as Body;
    object.uuid = created.uuid as string;
    object.fq_name = created.fq_name as string[];
    if (created.parent_type) object.parent_type = created.parent_type as string;
    object.pending = {};
    return object.uuid;
  }

  /** <type>_read(id=…) or (fq_name=…): by default without back-references and children. */
  async read(
    type: string,
    by: { id?: string; fq_name?: string[] },
    { fields, excludeBackRefs = true, excludeChildren = true, excludeHrefs = false } = {} as {
      fields?: string[];
      excludeBackRefs?: boolean;
      excludeChildren?: boolean;
      excludeHrefs?: boolean;
    },
  ): Promise<Body> {
    const id = by.id ?? (await this.fqNameToId(type, by.fq_name!));
    const query = new URLSearchParams();
    if (fields && fields.length > 0) query.set('fields', fields.join(','));
    else {
      if (excludeBackRefs) query.set('exclude_back_refs', 'True');
      if (excludeChildren) query.set('exclude_children', 'True');
    }
    if (excludeHrefs) query.set('exclude_hrefs', 'True');
    const text = await this.#request('GET', `${this.#base(type)}/${id}`, { query });
    return (JSON.parse(text) as Body)[type] as Body;
  }

  /**
   * <type>_update(obj): a PUT of the uuid and the fields set since the read. (The client sends a
   * reference list's changes through ref-update, one call each: refUpdate here.)
   */
  async update(object: VncObject): Promise<Body> {
    let answer: Body = {};
    if (Object.keys(object.pending).length > 0) {
      const serialized = { uuid: object.uuid ?? null, ...object.pending };
      answer = await this.#json('PUT', `${this.#base(object.type)}/${object.uuid}`, { [object.type]: serialized });
    }
    object.pending = {};
    return answer;
  }

  /** PUT of a body as given, for what JSON numbers cannot hold (TF's 64-bit uuid halves). */
  async updateRaw(type: string, uuid: string, json: string): Promise<void> {
    await this.#request('PUT', `${this.#base(type)}/${uuid}`, { data: json });
  }

  /** <type>_delete(id=…): a DELETE with no body, and the content type all the same. */
  async delete(type: string, id: string): Promise<void> {
    await this.#request('DELETE', `${this.#base(type)}/${id}`);
  }

  /** resource_list / <type>s_list. */
  async list(type: string, options: ListOptions = {}): Promise<Body> {
    const params: Record<string, unknown> = {};
    let bulk = false;
    if (options.parent_fq_name) params.parent_fq_name_str = options.parent_fq_name.join(':');
    else if (options.parent_id) {
      params.parent_id = Array.isArray(options.parent_id) ? options.parent_id.join(',') : options.parent_id;
      if (Array.isArray(options.parent_id) && options.parent_id.length > POST_FOR_LIST_THRESHOLD) bulk = true;
    }
    if (options.back_ref_id) {
      params.back_ref_id = Array.isArray(options.back_ref_id) ? options.back_ref_id.join(',') : options.back_ref_id;
      if (Array.isArray(options.back_ref_id) && options.back_ref_id.length > POST_FOR_LIST_THRESHOLD) bulk = true;
    }
    if (options.obj_uuids && options.obj_uuids.length > 0) {
      params.obj_uuids = options.obj_uuids.join(',');
      if (options.obj_uuids.length > POST_FOR_LIST_THRESHOLD) bulk = true;
    }
    if (options.fq_names && options.fq_names.length > 0) {
      params.fq_names = options.fq_names.map((fqName) => fqName.join(':')).join(',');
      if (options.fq_names.length > POST_FOR_LIST_THRESHOLD) bulk = true;
    }
    if (options.fields && options.fields.length > 0) params.fields = options.fields.join(',');
    params.detail = options.detail ?? false;
    params.count = options.count ?? false;
    params.shared = options.shared ?? false;
    if (options.filters) {
      params.filters = Object.entries(options.filters)
        .map(([key, value]) =>
          Array.isArray(value)
            ? value.map((item) => `${key}==${JSON.stringify(item)}`).join(',')
            : `${key}==${JSON.stringify(value)}`,
        )
        .join(',');
    }
    if (bulk) {
      return this.#json('POST', this.#action('list-bulk-collection'), { ...params, type });
    }
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      query.set(key, typeof value === 'boolean' ? (value ? 'True' : 'False') : String(value));
    }
    return JSON.parse(await this.#request('GET', this.#collection(type), { query })) as Body;
  }

  // ---- actions ----

  async fqNameToId(type: string, fqName: string[]): Promise<string> {
    return (await this.#json('POST', this.#action('name-to-id'), { type, fq_name: fqName })).uuid as string;
  }

  async idToFqNameType(id: string): Promise<{ fq_name: string[]; type: string }> {
    return (await this.#json('POST', this.#action('id-to-name'), { uuid: id })) as { fq_name: string[]; type: string };
  }

  /** ref_update(obj_type, obj_uuid, ref_type, ref_uuid, ref_fq_name, operation, attr). */
  async refUpdate(
    objType: string,
    objUuid: string,
    refType: string,
    refUuid: string | null,
    refFqName: string[],
    operation: 'ADD' | 'DELETE',
    attr: unknown = null,
  ): Promise<string> {
    const type =
      refType.endsWith('_refs') || refType.endsWith('-refs') ? refType.slice(0, -5).replace(/_/g, '-') : refType;
    const answer = await this.#json('POST', this.#action('ref-update'), {
      type: objType,
      uuid: objUuid,
      'ref-type': type,
      'ref-uuid': refUuid,
      'ref-fq-name': refFqName,
      operation,
      attr,
    });
    return answer.uuid as string;
  }

  async refRelaxForDelete(objUuid: string, refUuid: string): Promise<string> {
    return (await this.#json('POST', this.#action('ref-relax-for-delete'), { uuid: objUuid, 'ref-uuid': refUuid }))
      .uuid as string;
  }

  /** prop_list_add_element, prop_list_modify_element, prop_list_delete_element, prop_map_set_element, prop_map_delete_element. */
  async propCollectionUpdate(uuid: string, field: string, operation: string, value: unknown, position?: unknown) {
    const update: Body = { field, operation, value };
    if (position !== undefined && position !== null && position !== '') update.position = position;
    return this.#json('POST', this.#action('prop-collection-update'), { uuid, updates: [update] });
  }

  /** prop_list_get / prop_map_get. */
  async propCollectionGet(uuid: string, field: string, position?: string | number): Promise<[unknown, unknown][]> {
    const query = new URLSearchParams({ uuid, fields: field });
    if (position !== undefined) query.set('position', String(position));
    const text = await this.#request('GET', this.#action('prop-collection-get'), { query });
    return (JSON.parse(text) as Body)[field] as [unknown, unknown][];
  }

  async kvStore(key: string, value: unknown): Promise<void> {
    await this.#json('POST', this.#action('useragent-keyvalue'), { operation: 'STORE', key, value });
  }

  async kvRetrieve(key: string | null = null): Promise<unknown> {
    return (await this.#json('POST', this.#action('useragent-keyvalue'), { operation: 'RETRIEVE', key })).value;
  }

  async kvDelete(key: string): Promise<void> {
    await this.#json('POST', this.#action('useragent-keyvalue'), { operation: 'DELETE', key });
  }

  /** virtual_network_ip_alloc(vnobj, count, subnet, family): the link's %s is the network's uuid. */
  async virtualNetworkIpAlloc(
    networkUuid: string,
    count = 1,
    subnet: string | null = null,
    family: string | null = null,
  ) {
    const uri = this.#action('virtual-network-ip-alloc').replace('%s', networkUuid);
    return (await this.#json('POST', uri, { count, subnet, family })).ip_addr as string[];
  }

  async virtualNetworkIpFree(networkUuid: string, addresses: string[]): Promise<void> {
    await this.#json('POST', this.#action('virtual-network-ip-free').replace('%s', networkUuid), {
      ip_addr: addresses,
    });
  }

  async virtualNetworkSubnetIpCount(networkUuid: string, subnets: string[]): Promise<number[]> {
    const uri = this.#action('virtual-network-subnet-ip-count').replace('%s', networkUuid);
    return (await this.#json('POST', uri, { subnet_list: subnets })).ip_count_list as number[];
  }

  async chown(uuid: string, owner: string): Promise<void> {
    await this.#json('POST', this.#action('chown'), { uuid, owner });
  }

  async chmod(
    uuid: string,
    {
      owner,
      ownerAccess,
      share,
      globalAccess,
    }: { owner?: string; ownerAccess?: number; share?: [string, number][]; globalAccess?: number },
  ): Promise<void> {
    const payload: Body = { uuid };
    if (owner) payload.owner = owner;
    if (ownerAccess !== undefined) payload.owner_access = ownerAccess;
    if (share !== undefined) payload.share = share.map(([tenant, access]) => ({ tenant, tenant_access: access }));
    if (globalAccess !== undefined) payload.global_access = globalAccess;
    await this.#json('POST', this.#action('chmod'), payload);
  }

  /** obj_perms(token, obj_uuid): GET with the query as a string, as the client passes it. */
  async objPerms(uuid?: string): Promise<Body> {
    const query = new URLSearchParams(uuid ? `uuid=${uuid}` : '');
    return JSON.parse(await this.#request('GET', '/obj-perms', { query })) as Body;
  }

  /** set_tags(obj, tags_dict). */
  async setTags(object: { type: string; uuid: string }, tags: Record<string, Body | null>): Promise<Body> {
    return this.#json('POST', this.#action('set-tag'), { obj_type: object.type, obj_uuid: object.uuid, ...tags });
  }
}

// Property types of Tungsten Fabric's load balancer resources (loadbalancer.xsd, LBaaS v2):
// the balancer with its virtual IP, listeners, pools, members and health monitors.
import { int32, ipAddress, uuid } from './common.js';
import { t } from './schema.js';

const protocol = t.enum(['HTTP', 'HTTPS', 'TCP', 'UDP', 'TERMINATED_HTTPS'] as const);
const status = (what: string) => t.string({ maxLength: 255, description: `${what}, set by the system` });

export const loadbalancerProperties = t.object(
  {
    status: status('operational status'),
    provisioning_status: status('provisioning status'),
    operating_status: status('operating status'),
    vip_subnet_id: uuid('subnet of the virtual IP'),
    vip_address: ipAddress('the virtual IP'),
    admin_state: t.boolean(),
  },
  { description: 'LoadbalancerType' },
);

export const loadbalancerListenerProperties = t.object(
  {
    protocol,
    protocol_port: t.integer(0, 65535),
    admin_state: t.boolean(),
    connection_limit: int32(),
    default_tls_container: t.string({ maxLength: 2048 }),
    sni_containers: t.array(t.string({ maxLength: 2048 }), 64),
  },
  { description: 'LoadbalancerListenerType' },
);

export const loadbalancerPoolProperties = t.object(
  {
    status: status('operating status'),
    status_description: status('operating status description'),
    admin_state: t.boolean(),
    protocol,
    loadbalancer_method: t.enum(['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'] as const),
    subnet_id: uuid('subnet the members are reachable from'),
    session_persistence: t.enum(['SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE'] as const),
    persistence_cookie_name: t.string({ maxLength: 1024 }),
  },
  { description: 'LoadbalancerPoolType' },
);

export const loadbalancerMemberProperties = t.object(
  {
    admin_state: t.boolean(),
    status: status('operational status'),
    status_description: status('operational status description'),
    protocol_port: t.integer(0, 65535),
    weight: t.integer(0, 256),
    address: ipAddress('address of the member'),
    subnet_id: uuid('subnet of the member'),
  },
  { description: 'LoadbalancerMemberType' },
);

export const loadbalancerHealthmonitorProperties = t.object(
  {
    admin_state: t.boolean(),
    monitor_type: t.enum(['PING', 'TCP', 'HTTP', 'HTTPS'] as const),
    delay: int32('seconds between checks'),
    timeout: int32('seconds to wait for an answer'),
    max_retries: int32('failures before the member counts as down'),
    http_method: t.string({ maxLength: 16 }),
    url_path: t.string({ maxLength: 2048 }),
    expected_codes: t.string({ maxLength: 255 }),
  },
  { description: 'LoadbalancerHealthmonitorType' },
);

// NetworkPolicy semantics, compiled: which groups a pod's eth0 belongs in (selected, peer, open
// in the directions no policy isolates, or none at all), and the rules a policy's group holds
// (ports, ipBlocks less their exceptions, egress, an empty ingress list that allows nothing).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compilePolicy, type NetworkPolicyLike, podGroups } from './network-policies.js';

const project = (namespace: string) => ['default-domain', namespace];
function sources(policies: NetworkPolicyLike[], namespaceLabels: Record<string, Record<string, string>> = {}) {
  return {
    policies: () => policies,
    namespaceLabels: (namespace: string) => namespaceLabels[namespace],
    projectOf: project,
    ensureProject: async (namespace: string) => project(namespace),
  };
}
const names = (groups: string[][]) => groups.map((fq) => fq.join(':'));

const web: NetworkPolicyLike = {
  metadata: { namespace: 'shop', name: 'web' },
  spec: {
    podSelector: { matchLabels: { role: 'server' } },
    ingress: [
      {
        from: [
          { podSelector: { matchLabels: { role: 'client' } } },
          {
            namespaceSelector: { matchLabels: { team: 'ops' } },
            podSelector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] },
          },
          { ipBlock: { cidr: '192.168.0.0/24', except: ['192.168.0.128/25'] } },
        ],
        ports: [
          { protocol: 'TCP', port: 80 },
          { protocol: 'UDP', port: 5000, endPort: 5010 },
        ],
      },
    ],
  },
};

describe('which groups a pod belongs in', () => {
  test('selected: its policy group, and open egress since the policy isolates only ingress', () => {
    assert.deepEqual(names(podGroups({ namespace: 'shop', labels: { role: 'server' } }, sources([web]))), [
      'default-domain:shop:k8s-allow-egress',
      'default-domain:shop:k8s-np__shop__web',
    ]);
  });

  test('a peer: the peer group, open both ways', () => {
    assert.deepEqual(names(podGroups({ namespace: 'shop', labels: { role: 'client' } }, sources([web]))), [
      'default-domain:shop:k8s-allow-egress',
      'default-domain:shop:k8s-allow-ingress',
      'default-domain:shop:k8s-np__shop__web__in0-0',
    ]);
  });

  test('a peer by namespace labels and a pod expression, in another namespace', () => {
    const groups = names(
      podGroups({ namespace: 'infra', labels: { tier: 'x' } }, sources([web], { infra: { team: 'ops' } })),
    );
    assert.ok(groups.includes('default-domain:shop:k8s-np__shop__web__in0-1'), groups.join(' '));
    assert.deepEqual(
      podGroups({ namespace: 'infra', labels: { tier: 'x' } }, sources([web], { infra: { team: 'dev' } })),
      [],
    );
  });

  test('a pod that no policy concerns is in no group: open', () => {
    assert.deepEqual(podGroups({ namespace: 'shop', labels: { role: 'other' } }, sources([web])), []);
    assert.deepEqual(podGroups({ namespace: 'elsewhere', labels: { role: 'server' } }, sources([web])), []);
  });

  test('a policy with policyTypes [Ingress, Egress] and no rules isolates both ways: nothing is added to open it', () => {
    const lockdown: NetworkPolicyLike = {
      metadata: { namespace: 'shop', name: 'lockdown' },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    };
    assert.deepEqual(names(podGroups({ namespace: 'shop', labels: {} }, sources([lockdown]))), [
      'default-domain:shop:k8s-np__shop__lockdown',
    ]);
    assert.deepEqual(compilePolicy(lockdown, project('shop'))[0]!.rules, []);
  });
});

describe("a policy's rules", () => {
  test('per peer and port, ipBlocks less their exceptions, into the selected pod', () => {
    const [own, ...peers] = compilePolicy(web, project('shop'));
    assert.deepEqual(
      peers.map((group) => [group.name, group.rules.length]),
      [
        ['k8s-np__shop__web__in0-0', 0],
        ['k8s-np__shop__web__in0-1', 0],
      ],
    );
    const rules = own!.rules as {
      protocol: string;
      src_addresses: unknown[];
      dst_addresses: unknown[];
      dst_ports: unknown[];
    }[];
    assert.equal(rules.length, 2 * 3);
    assert.deepEqual(rules[0]!.src_addresses, [{ security_group: 'default-domain:shop:k8s-np__shop__web__in0-0' }]);
    assert.deepEqual(rules[2]!.src_addresses, [{ subnet: { ip_prefix: '192.168.0.0', ip_prefix_len: 25 } }]);
    assert.deepEqual(rules[0]!.dst_addresses, [{ security_group: 'local' }]);
    assert.deepEqual(
      rules.map((rule) => [rule.protocol, rule.dst_ports]),
      [
        ['tcp', [{ start_port: 80, end_port: 80 }]],
        ['tcp', [{ start_port: 80, end_port: 80 }]],
        ['tcp', [{ start_port: 80, end_port: 80 }]],
        ['udp', [{ start_port: 5000, end_port: 5010 }]],
        ['udp', [{ start_port: 5000, end_port: 5010 }]],
        ['udp', [{ start_port: 5000, end_port: 5010 }]],
      ],
    );
  });

  test('egress: from the pod to its peers; no ports means all; no peers means anywhere', () => {
    const dns: NetworkPolicyLike = {
      metadata: { namespace: 'shop', name: 'out' },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ ports: [{ protocol: 'UDP', port: 53 }] }, { to: [{ podSelector: {} }] }],
      },
    };
    const rules = compilePolicy(dns, project('shop'))[0]!.rules as Record<string, unknown>[];
    assert.deepEqual(rules[0]!.src_addresses, [{ security_group: 'local' }]);
    assert.deepEqual(rules[0]!.dst_addresses, [{ subnet: { ip_prefix: '0.0.0.0', ip_prefix_len: 0 } }]);
    assert.equal(rules[1]!.protocol, 'any');
    assert.deepEqual(rules[1]!.dst_addresses, [{ security_group: 'default-domain:shop:k8s-np__shop__out__out1-0' }]);
  });
});

// weftctl in the lab, with status proven by traffic: two pods on two hosts, a policy that passes
// between their networks, then one in front of it that denies ICMP. `weftctl probe` runs a packet
// through each host's real datapath and names the policy and the rule that dropped it;
// `weftctl datapath` shows the policy drop counter rising with a real ping; with the deny gone,
// the probe passes again. Config goes in through `weftctl apply`, pods through the CNI plugin.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tempDir, waitFor } from '@weft/kit/testing';
import { freeLabPorts, freeUnderlaySubnet, Lab, labUnavailable } from '../lab/lab.js';
import { type Run, weftctl, weftctlStarted } from '../support/weftctl.js';

const skip = labUnavailable();
let lab: Lab;
let dir: ReturnType<typeof tempDir>;
let env: Record<string, string>;
const run = (args: string[], input?: string) => weftctl(args, env, input);

const network = (name: string, prefix: string, policies: string[]) => `virtual-network:
  fq_name: [default-domain, default-project, ${name}]
  parent_type: project
  network_ipam_refs:
    - to: [default-domain, default-project, default-network-ipam]
      attr: {ipam_subnets: [{subnet: {ip_prefix: ${prefix}, ip_prefix_len: 24}}]}
  network_policy_refs:${policies.length === 0 ? ' []' : ''}
${policies.map((policy, index) => `    - to: [default-domain, default-project, ${policy}]\n      attr: {sequence: {major: ${index}, minor: 0}}`).join('\n')}
`;

const policy = (name: string, protocol: string, action: string) => `network-policy:
  fq_name: [default-domain, default-project, ${name}]
  parent_type: project
  network_policy_entries:
    policy_rule:
      - direction: "<>"
        protocol: ${protocol}
        src_addresses: [{virtual_network: "default-domain:default-project:red"}]
        dst_addresses: [{virtual_network: "default-domain:default-project:blue"}]
        src_ports: [{start_port: -1, end_port: -1}]
        dst_ports: [{start_port: -1, end_port: -1}]
        action_list: {simple_action: ${action}}
`;

function pings(from: string, address: string, count: number): boolean {
  try {
    lab.exec(from, 'ping', ['-c', String(count), '-W', '1', address]);
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  if (skip) return;
  dir = tempDir('weft-lab-weftctl-');
  const ports = await freeLabPorts();
  lab = await Lab.up({
    name: `wfp${process.pid % 100_000}`,
    hosts: 2,
    subnet: freeUnderlaySubnet(100 + (process.pid % 100)),
    dir: dir.path,
    ports,
  });
  env = {
    WEFT_CTL_CONFIG: `${dir.path}/weftctl.yaml`,
    WEFT_CTL_CONFIG_API: `http://127.0.0.1:${ports.configRest}`,
    WEFT_CTL_CONFIG_API_GRPC: `127.0.0.1:${ports.configGrpc}`,
    WEFT_CTL_CONTROL: `http://127.0.0.1:${ports.controlHttp}`,
    WEFT_CTL_ANALYTICS: `http://127.0.0.1:${ports.analytics}`,
    WEFT_CTL_TOKEN: lab.adminToken ?? '',
  };
});

after(async () => {
  if (skip || !lab) return;
  await lab.down();
  dir.remove();
});

test('a probe from a pod to a pod on another host passes the policy, crosses the tunnel and is delivered', {
  skip,
}, async () => {
  const applied = await run(
    ['apply', '-f', '-'],
    [
      policy('red-blue', 'any', 'pass'),
      network('red', '10.21.0.0', ['red-blue']),
      network('blue', '10.22.0.0', ['red-blue']),
    ].join('---\n'),
  );
  assert.equal(applied.code, 0, applied.stderr);
  await lab.addPod('a', 'h1', ['red']);
  await lab.addPod('b', 'h2', ['blue']);
  const h1 = lab.host('h1');
  const h2 = lab.host('h2');

  let probe: Run | undefined;
  await waitFor(
    async () => {
      probe = await run(['probe', 'a', 'b']);
      return probe.code === 0;
    },
    { timeoutMs: 30_000, intervalMs: 500, what: 'the probe to get through' },
  ).catch(() => assert.fail(`the probe does not get through:\n${probe?.stdout}${probe?.stderr}`));
  const out = probe!.stdout;
  assert.match(out, new RegExp(`^${h1.name} {2}weft_pod_egress_tc: redirect$`, 'm'));
  assert.match(
    out,
    /^ {2}policy {4}default-domain:default-project:red:network-policy rule 1: pass {2}\(network-policy default-domain:default-project:red-blue, rule 0\)$/m,
  );
  assert.match(out, new RegExp(`^ {2}tunnel {4}VXLAN to ${h2.underlayAddress.replaceAll('.', '\\.')}, vni \\d+$`, 'm'));
  assert.match(out, new RegExp(`^${h2.name} {2}weft_underlay_ingress: redirect$`, 'm'));
  assert.match(out, new RegExp(`^DELIVERED to b on ${h2.name}$`, 'm'));
  assert.ok(pings('a', lab.podAddress('b', 'blue'), 1), 'and a real ping agrees');

  const agents = await run(['agents']);
  for (const host of [h1, h2]) assert.match(agents.stdout, new RegExp(`^${host.name}\\s+yes\\s`, 'm'));
});

test('a policy that cuts the pods apart: the probe names it and its rule, and the drop counter rises', {
  skip,
}, async () => {
  const h1 = lab.host('h1');
  const cut = await run(
    ['apply', '-f', '-'],
    [policy('no-icmp', 'icmp', 'deny'), network('red', '10.21.0.0', ['no-icmp', 'red-blue'])].join('---\n'),
  );
  assert.equal(cut.code, 0, cut.stderr);
  assert.match(cut.stdout, /virtual-network\/default-domain:default-project:red configured/);

  // As a script waits for it: probe until dropped, for up to 30 s; exit 0 once it is.
  const probe = await run(['probe', 'a', 'b', '--expect', 'dropped', '--wait', '30s']);
  assert.equal(probe.code, 0, `the probe is not dropped:\n${probe.stdout}${probe.stderr}`);
  assert.equal((await run(['probe', 'a', 'b'])).code, 8, 'expecting delivery, a dropped probe exits 8');
  assert.match(
    probe.stdout,
    new RegExp(
      `^DROPPED on ${h1.name} by network-policy default-domain:default-project:no-icmp, rule 0 \\(default-domain:default-project:red:network-policy rule 1\\)$`,
      'm',
    ),
  );
  assert.match(probe.stdout, /^ {2}dropped {3}policy$/m);
  const json = JSON.parse((await run(['probe', 'a', 'b', '-o', 'json'])).stdout);
  assert.equal(json.delivered, false);
  assert.deepEqual(json.dropped.reason, 'policy');
  assert.deepEqual(json.legs[0].acls[0].origin, {
    type: 'network-policy',
    name: 'default-domain:default-project:no-icmp',
    rule: 0,
  });
  // Another protocol is not what no-icmp denies: red-blue passes it.
  assert.equal((await run(['probe', 'a', 'b', '--protocol', 'tcp', '--port', '5201'])).code, 0);

  const policyDrops = async () => {
    const answer = JSON.parse((await run(['datapath', '--host', h1.name, '-o', 'json'])).stdout) as {
      drops: { policy: number };
    };
    return answer.drops.policy;
  };
  const before = await policyDrops();
  assert.equal(pings('a', lab.podAddress('b', 'blue'), 3), false, 'a real ping is dropped too');
  const afterPing = await policyDrops();
  assert.ok(afterPing >= before + 3, `the policy drop counter rose by ${afterPing - before}, not by the 3 pings`);
  // The denied pings, as analytics recorded them from the agents' flow records.
  await waitFor(
    async () => {
      const flows = JSON.parse((await run(['flows', '--since', '10m', '--network', 'red', '-o', 'json'])).stdout) as {
        destination_ip: string;
        action: string;
      }[];
      return flows.some((flow) => flow.destination_ip === lab.podAddress('b', 'blue') && flow.action === 'deny');
    },
    { timeoutMs: 20_000, intervalMs: 1000, what: 'the denied flow in `weftctl flows`' },
  );
  const table = (await run(['datapath', '--host', h1.name])).stdout;
  assert.match(table, new RegExp(`^policy\\s+${afterPing}$`, 'm'));
  assert.match(table, /^DEVICE\s+POD\s+ADDRESSES\s+ROUTING INSTANCE\s+RX\s+TX LOCAL\s+TX TUNNEL\s+DROPS$/m);
  assert.match(
    table,
    /^\S+\s+default\/a eth0\s+10\.21\.0\.\d+\/24\s+default-domain:default-project:red:red\s+\d+\s+\d+\s+\d+\s+\S*policy=\d+/m,
  );
});

test('with the policy restored, the probe passes again', { skip }, async () => {
  const restored = await run(['apply', '-f', '-'], network('red', '10.21.0.0', ['red-blue']));
  assert.equal(restored.code, 0, restored.stderr);
  const probe = await run(['probe', 'a', 'b', '--wait', '30s']);
  assert.equal(probe.code, 0, `the probe does not pass again:\n${probe.stdout}${probe.stderr}`);
  assert.match(probe.stdout, /^DELIVERED to b on /m);
  // flows --follow shows the records of the traffic that comes after it started.
  const following = weftctlStarted(['flows', '--since', '10m', '--network', 'red', '--follow', '-o', 'json'], env);
  await waitFor(() => following.output().length > 0, { what: 'the first records' });
  const shown = following.output().split('\n').filter(Boolean).length;
  assert.ok(pings('a', lab.podAddress('b', 'blue'), 3));
  await waitFor(
    () =>
      following
        .output()
        .split('\n')
        .filter(Boolean)
        .slice(shown)
        .some((line) => {
          const flow = JSON.parse(line) as { destination_ip: string; action: string };
          return flow.destination_ip === lab.podAddress('b', 'blue') && flow.action === 'pass';
        }),
    { timeoutMs: 20_000, intervalMs: 500, what: 'the new ping in `weftctl flows --follow`' },
  );
  assert.equal(await following.interrupt(), 0);
  await lab.deletePod('a');
  await lab.deletePod('b');
});

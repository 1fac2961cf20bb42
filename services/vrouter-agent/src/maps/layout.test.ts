// The encoders in src/maps/ against the C compiler: every struct they encode must have the
// size and field offsets they assume, and every constant they mirror the value in consts.h.
// gcc compiles a tiny program that includes bpf/lib/structs.h and prints what it sees.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@weft/kit/testing';
import { bpfSourceDir } from '../datapath/paths.js';
import { skbContextLayout } from '../datapath/test-run.js';
import * as maps from './index.js';

const haveGcc = spawnSync('gcc', ['--version'], { stdio: 'ignore' }).status === 0;

const constants: Record<string, number> = {
  WEFT_MAX_INTERFACES: maps.MAX_INTERFACES,
  WEFT_MAX_VRFS: maps.MAX_VRFS,
  WEFT_MAX_HOST_ROUTES: maps.MAX_HOST_ROUTES,
  WEFT_MAX_PREFIX_ROUTES: maps.MAX_PREFIX_ROUTES,
  WEFT_MAX_ACLS: maps.MAX_ACLS,
  WEFT_MAX_ACL_RULES: maps.MAX_ACL_RULES,
  WEFT_MAX_FLOWS: maps.MAX_FLOWS,
  WEFT_MAX_PEERS: maps.MAX_PEERS,
  WEFT_MAX_FLOATING_IPS: maps.MAX_FLOATING_IPS,
  WEFT_MAX_SERVICES: maps.MAX_SERVICES,
  WEFT_MAX_SERVICE_BACKENDS: maps.MAX_SERVICE_BACKENDS,
  WEFT_VXLAN_PORT: maps.VXLAN_PORT,
  WEFT_VXLAN_ENCAP_LEN: maps.VXLAN_ENCAP_LEN,
  WEFT_DROP_NO_ROUTE: maps.DropReason.noRoute,
  WEFT_DROP_POLICY: maps.DropReason.policy,
  WEFT_DROP_MALFORMED: maps.DropReason.malformed,
  WEFT_DROP_MTU: maps.DropReason.mtu,
  WEFT_DROP_TTL: maps.DropReason.ttl,
  WEFT_DROP_NO_TX_PORT: maps.DropReason.noTxPort,
  WEFT_DROP_UNKNOWN_VNI: maps.DropReason.unknownVni,
  WEFT_DROP_UNKNOWN_PEER: maps.DropReason.unknownPeer,
  WEFT_DROP_REASONS: maps.DROP_REASONS,
  WEFT_NH_LOCAL: maps.NextHopKind.local,
  WEFT_NH_TUNNEL: maps.NextHopKind.tunnel,
  WEFT_NH_RECEIVE: maps.NextHopKind.receive,
  WEFT_NH_OUTSIDE: maps.NextHopKind.outside,
  WEFT_ACTION_PASS: maps.Action.pass,
  WEFT_ACTION_DENY: maps.Action.deny,
  WEFT_VERDICT_LOCAL: maps.FlowVerdict.local,
  WEFT_VERDICT_TUNNEL: maps.FlowVerdict.tunnel,
  WEFT_VERDICT_DECAP: maps.FlowVerdict.decap,
  WEFT_VERDICT_DROP: maps.FlowVerdict.drop,
  WEFT_IF_PORT_SECURITY: maps.IF_PORT_SECURITY,
  WEFT_PROBE_MAX_ACLS: maps.PROBE_MAX_ACLS,
  WEFT_PROBE_DEFAULT_RULE: maps.PROBE_DEFAULT_RULE,
  WEFT_PROBE_MISSING_ACL: maps.PROBE_MISSING_ACL,
  WEFT_PROBE_DROP: maps.ProbeResult.drop,
  WEFT_PROBE_LOCAL: maps.ProbeResult.local,
  WEFT_PROBE_TUNNEL: maps.ProbeResult.tunnel,
};

/** What the C compiler says: "struct.size", "struct.field" and constant names → numbers. */
function compilerView(): Record<string, number> {
  const dir = tempDir('weft-layout-');
  const lines: string[] = [];
  for (const layout of maps.structLayouts) {
    lines.push(`printf("\\"${layout.struct}.size\\": %zu,\\n", sizeof(struct ${layout.struct}));`);
    for (const field of Object.keys(layout.offsets)) {
      lines.push(`printf("\\"${layout.struct}.${field}\\": %zu,\\n", offsetof(struct ${layout.struct}, ${field}));`);
    }
  }
  for (const name of Object.keys(constants)) lines.push(`printf("\\"${name}\\": %ld,\\n", (long)(${name}));`);
  const source = join(dir.path, 'layout.c');
  writeFileSync(
    source,
    `#include <stddef.h>\n#include <stdio.h>\n#include "structs.h"\nint main(void) {\nprintf("{\\n");\n${lines.join('\n')}\nprintf("\\"end\\": 0}\\n");\nreturn 0;\n}\n`,
  );
  const binary = join(dir.path, 'layout');
  execFileSync('gcc', ['-Wall', '-Werror', '-I', join(bpfSourceDir, 'lib'), source, '-o', binary]);
  const view = JSON.parse(execFileSync(binary, { encoding: 'utf8' })) as Record<string, number>;
  dir.remove();
  return view;
}

test('every struct the maps encode has the size and offsets of bpf/lib/structs.h', {
  skip: !haveGcc && 'gcc is not installed',
}, () => {
  const view = compilerView();
  for (const layout of maps.structLayouts) {
    assert.equal(layout.size, view[`${layout.struct}.size`], `sizeof(struct ${layout.struct})`);
    for (const [field, offset] of Object.entries(layout.offsets)) {
      assert.equal(offset, view[`${layout.struct}.${field}`], `offsetof(struct ${layout.struct}, ${field})`);
    }
  }
  for (const [name, value] of Object.entries(constants)) assert.equal(value, view[name], name);
});

test('the test-run context of TC programs has the layout of linux/bpf.h', {
  skip: !haveGcc && 'gcc is not installed',
}, () => {
  const dir = tempDir('weft-layout-skb-');
  const source = join(dir.path, 'skb.c');
  const offsets = Object.keys(skbContextLayout.offsets)
    .map((field) => `printf(" %zu", offsetof(struct __sk_buff, ${field}));`)
    .join('\n');
  writeFileSync(
    source,
    `#include <stddef.h>\n#include <stdio.h>\n#include <linux/bpf.h>\nint main(void) {\nprintf("%zu", sizeof(struct __sk_buff));\n${offsets}\nreturn 0;\n}\n`,
  );
  execFileSync('gcc', ['-Wall', '-Werror', source, '-o', join(dir.path, 'skb')]);
  const view = execFileSync(join(dir.path, 'skb'), { encoding: 'utf8' }).split(' ').map(Number);
  dir.remove();
  assert.deepEqual(view, [skbContextLayout.size, ...Object.values(skbContextLayout.offsets)]);
});

test('map specs size their keys and values by the structs they hold', () => {
  assert.equal(maps.interfaceMap.valueSize, maps.interfaceLayout.size);
  assert.equal(maps.hostRoute4Map.valueSize, maps.nextHopLayout.size);
  assert.equal(maps.conntrackMap.keySize, maps.flowKeyLayout.size);
  assert.equal(maps.aclMap.valueSize, 8 + maps.MAX_ACL_RULES * maps.aclRuleLayout.size);
  assert.equal(maps.statsMap(3).valueSize, 3 * maps.statsLayout.size);
  assert.equal(maps.peerMap.valueSize, maps.peerLayout.size);
  assert.equal(maps.configMap.valueSize, maps.configLayout.size);
});

test('service map specs size their keys and values by the structs they hold', () => {
  assert.equal(maps.serviceMap.keySize, maps.serviceKeyLayout.size);
  assert.equal(maps.serviceMap.valueSize, 4 + maps.MAX_SERVICE_BACKENDS * maps.l4AddressLayout.size);
  assert.equal(maps.serviceFlowMap.keySize, maps.serviceFlowKeyLayout.size);
  assert.equal(maps.serviceFlowMap.valueSize, maps.l4AddressLayout.size);
  const key = { vrfId: 3, address: '10.96.0.10', port: 53, protocol: 'udp' as const };
  assert.deepEqual(maps.serviceMap.decodeKey(maps.serviceMap.encodeKey(key)), key);
  const backends = [
    { address: '10.1.0.5', port: 8080 },
    { address: '10.1.0.6', port: 8080 },
  ];
  assert.deepEqual(maps.serviceMap.decodeValue(maps.serviceMap.encodeValue(backends)), backends);
  const tooMany = Array.from({ length: maps.MAX_SERVICE_BACKENDS + 1 }, () => backends[0]!);
  assert.throws(() => maps.serviceMap.encodeValue(tooMany), /service\.backends/);
});

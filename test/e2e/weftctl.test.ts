// weftctl as operators run it: the built executable against `npm start`'s stack on free ports.
// Every resource verb and output format, apply's idempotence, errors with their reason, field,
// hint and documented exit code, contexts, the token sent both ways, watch, the status verbs,
// completion, and colour only on a terminal. A table is compared with golden output, the
// volatile column (AGE) masked.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import {
  freePort,
  natsServerMissing,
  opensslMissing,
  selfSignedCertificate,
  tempDir,
  waitFor,
} from '@weft/kit/testing';
import { parseAllDocuments } from 'yaml';
import { type LocalStack, startLocalStack, weftctl, weftctlPath, weftctlStarted } from '../support/weftctl.js';

const skip = natsServerMissing();
const isRoot = process.getuid?.() === 0;
let stack: LocalStack;
let files: ReturnType<typeof tempDir>;
const run = (args: string[], extra: Record<string, string> = {}, input?: string) =>
  weftctl(args, { ...stack.env, ...extra }, input);

const PROJECT = 'default-domain:default-project';

/** Two networks and the policy between them; the first network refers to the policy further down. */
const NETWORKS = `virtual-network:
  fq_name: [default-domain, default-project, blue]
  parent_type: project
  network_policy_refs:
    - to: [default-domain, default-project, red-blue]
      attr: {sequence: {major: 0, minor: 0}}
  network_ipam_refs:
    - to: [default-domain, default-project, default-network-ipam]
      attr: {ipam_subnets: [{subnet: {ip_prefix: 10.2.0.0, ip_prefix_len: 24}}]}
---
network-policy:
  fq_name: [default-domain, default-project, red-blue]
  parent_type: project
  network_policy_entries:
    policy_rule:
      - direction: "<>"
        protocol: any
        src_addresses: [{virtual_network: "default-domain:default-project:red"}]
        dst_addresses: [{virtual_network: "default-domain:default-project:blue"}]
        src_ports: [{start_port: -1, end_port: -1}]
        dst_ports: [{start_port: -1, end_port: -1}]
        action_list: {simple_action: pass}
---
virtual-network:
  fq_name: [default-domain, default-project, red]
  parent_type: project
  network_policy_refs:
    - to: [default-domain, default-project, red-blue]
      attr: {sequence: {major: 0, minor: 0}}
  network_ipam_refs:
    - to: [default-domain, default-project, default-network-ipam]
      attr: {ipam_subnets: [{subnet: {ip_prefix: 10.1.0.0, ip_prefix_len: 24}}]}
`;

/** `weftctl get vn` on this stack, the AGE column masked. */
const GOLDEN_NETWORKS = `NAME                                  SUBNETS       VNI   POLICIES   AGE
default-domain:default-project:blue   10.2.0.0/24   2     red-blue   <age>
default-domain:default-project:red    10.1.0.0/24   1     red-blue   <age>
`;

/** The escape that starts every colour sequence (ANSI CSI). */
const ESC = '\u001b[';
const maskAge = (table: string) => table.replace(/\d+[smhd]$/gm, '<age>');
const file = (name: string, text: string) => {
  const path = join(files.path, name);
  writeFileSync(path, text);
  return path;
};

describe('weftctl against the local stack', { skip }, () => {
  before(async () => {
    files = tempDir('weftctl-files-');
    stack = await startLocalStack('wfc');
  });
  /** The stack's admin token, as the README's tour sends it to config-api. */
  const adminHeaders = () => ({ 'x-auth-token': readFileSync(stack.env.WEFT_CTL_TOKEN_FILE!, 'utf8').trim() });

  after(async () => {
    await stack?.stop();
    files?.remove();
  });

  test('api-resources lists every type of config-api’s root page, with derived short names', async () => {
    const root = (await (await fetch(`${stack.env.WEFT_CTL_CONFIG_API}/`, { headers: adminHeaders() })).json()) as {
      links: { link: { rel: string; name: string } }[];
    };
    const types = root.links.filter(({ link }) => link.rel === 'collection').map(({ link }) => link.name);
    const listed = await run(['api-resources', '-o', 'name']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(listed.stdout.trim().split('\n'), types);
    const table = await run(['api-resources']);
    assert.match(table.stdout, /^virtual-machine-interface\s+vmi\s+\/virtual-machine-interfaces$/m);
  });

  test('apply creates in any order, then changes nothing; a change is configured', async () => {
    const path = file('networks.yaml', NETWORKS);
    const first = await run(['apply', '-f', path]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trim().split('\n').sort(), [
      `network-policy/${PROJECT}:red-blue created`,
      `virtual-network/${PROJECT}:blue created`,
      `virtual-network/${PROJECT}:red created`,
    ]);
    const again = await run(['apply', '-f', path]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(again.stdout.trim().split('\n'), [
      `virtual-network/${PROJECT}:blue unchanged`,
      `network-policy/${PROJECT}:red-blue unchanged`,
      `virtual-network/${PROJECT}:red unchanged`,
    ]);
    const changed = await run(
      ['apply', '-f', '-'],
      {},
      NETWORKS.split('---')[1]!.replace('simple_action: pass', 'simple_action: deny'),
    );
    assert.equal(changed.stdout.trim(), `network-policy/${PROJECT}:red-blue configured`);
    const back = await run(['apply', '-f', path]);
    assert.match(back.stdout, new RegExp(`network-policy/${PROJECT}:red-blue configured`));
    assert.equal((await run(['apply', '-f', path])).stdout.match(/unchanged/g)?.length, 3);
  });

  test('get prints a table (golden, AGE masked) and every other format', async () => {
    const table = await run(['get', 'vn']);
    assert.equal(table.code, 0, table.stderr);
    assert.equal(maskAge(table.stdout), GOLDEN_NETWORKS);
    assert.equal(maskAge((await run(['get', 'virtual-networks', 'red', 'blue'])).stdout).split('\n').length, 4);

    const rest = (await (
      await fetch(`${stack.env.WEFT_CTL_CONFIG_API}/virtual-networks`, { headers: adminHeaders() })
    ).json()) as {
      'virtual-networks': { uuid: string; fq_name: string[] }[];
    };
    const red = rest['virtual-networks'].find((item) => item.fq_name[2] === 'red')!;
    const wide = await run(['get', 'vn', 'red', '-o', 'wide']);
    assert.match(wide.stdout, /^NAME\s+SUBNETS\s+VNI\s+POLICIES\s+AGE\s+UUID\s+REFERS TO$/m);
    assert.match(wide.stdout, new RegExp(`${red.uuid}\\s+network_ipam=default-network-ipam network_policy=red-blue`));

    const json = JSON.parse((await run(['get', 'vn', red.uuid, '-o', 'json'])).stdout);
    assert.deepEqual(
      json['virtual-network'].fq_name,
      [...PROJECT.split(':'), 'red'],
      'one object, by uuid, in the API’s envelope',
    );
    const list = JSON.parse((await run(['get', 'vn', '-o', 'json'])).stdout) as unknown[];
    assert.equal(list.length, 2);

    const yaml = (await run(['get', 'vn', '-o', 'yaml'])).stdout;
    assert.equal(parseAllDocuments(yaml).length, 2);
    const reapplied = await run(['apply', '-f', '-'], {}, yaml);
    assert.deepEqual(
      reapplied.stdout.trim().split('\n'),
      [`virtual-network/${PROJECT}:blue unchanged`, `virtual-network/${PROJECT}:red unchanged`],
      'what get -o yaml prints, apply reads back as it is',
    );

    assert.equal((await run(['get', 'network-policies', '-o', 'name'])).stdout, `network-policy/${PROJECT}:red-blue\n`);
  });

  test('describe shows references both ways, and the routing instance control compiled', async () => {
    await waitFor(
      async () =>
        /Routing instance \(control\):\n {2}\S+:red:red {2}vrf \d+/.test((await run(['describe', 'vn', 'red'])).stdout),
      {
        timeoutMs: 20_000,
        what: 'control to compile red',
      },
    );
    const out = (await run(['describe', 'network-policy', 'red-blue'])).stdout;
    assert.match(out, /^Name: +default-domain:default-project:red-blue$/m);
    assert.match(
      out,
      /^Referred to by:\n( {2}virtual-network default-domain:default-project:(red|blue) {2}\{"sequence":\{"major":0,"minor":0\}\}\n){2}/m,
    );
    assert.match(out, /simple_action: pass/);
  });

  test('errors give the reason, the field and a hint, with the documented exit codes', async () => {
    const path = file('networks.yaml', NETWORKS);
    const cases: [string, string[], number, RegExp][] = [
      ['exists', ['create', '-f', path], 4, /FQ_NAME_TAKEN[\s\S]*hint: `weftctl apply -f` updates/],
      [
        'bad field',
        [
          'create',
          '-f',
          file('bad.yaml', 'virtual-network: {fq_name: [default-domain, default-project, x], colour: red}'),
        ],
        5,
        /field: virtual-network\.colour\n {2}hint:/,
      ],
      ['no type', ['get', 'subnetz'], 3, /no resource type "subnetz" \(NO_SUCH_TYPE\)/],
      ['no object', ['get', 'vn', 'green'], 3, /virtual-network green not found/],
      [
        'in use',
        ['delete', 'network-policy', 'red-blue'],
        4,
        /referred to by virtual-network[\s\S]*\(IN_USE\)\n {2}hint: delete what refers to it first/,
      ],
      ['usage', ['get'], 2, /USAGE/],
      ['bad option', ['flows', '--since', 'yesterday'], 2, /--since yesterday: expected a duration/],
      [
        'bad file',
        ['apply', '-f', file('list.yaml', '- just\n- words\n')],
        2,
        /list\.yaml#1\[0\]: expected one object: \{"<type>": \{\.\.\.\}\} \(BAD_FILE\)\n {2}hint: each document/,
      ],
      ['missing file', ['apply', '-f', join(files.path, 'none.yaml')], 2, /BAD_FILE/],
      [
        'unreachable',
        ['get', 'vn', '--config-api', `http://127.0.0.1:${await freePort()}`],
        6,
        /cannot be reached[\s\S]*hint: is the stack running/,
      ],
    ];
    for (const [what, args, code, message] of cases) {
      const result = await run(args);
      assert.equal(result.code, code, `${what}: exit code (${result.stderr})`);
      assert.match(result.stderr, message, what);
      assert.ok(!result.stderr.includes(ESC), `${what}: no colour in a pipe`);
    }
  });

  test('the token goes both ways authentication takes it, and a refusal says how to give one', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const server = createServer((request, response) => {
      seen.push(request.headers);
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'a token is needed' } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const result = await run(['get', 'vn', '--config-api', url], { WEFT_CTL_TOKEN: 's3cret' });
      assert.equal(result.code, 7, result.stderr);
      assert.match(result.stderr, /hint: set a token/);
      assert.equal(seen[0]?.authorization, 'Bearer s3cret');
      assert.equal(seen[0]?.['x-auth-token'], 's3cret');
    } finally {
      server.close();
    }
  });

  test('TLS: the context’s CA is trusted, a client certificate is shown, and "insecure" skips the check', {
    skip: opensslMissing(),
  }, async () => {
    const certificate = selfSignedCertificate();
    const upstream = new URL(stack.env.WEFT_CTL_CONFIG_API!);
    // config-api behind a TLS front that asks for a client certificate, as a deployment would put it.
    const front = createHttpsServer(
      {
        cert: readFileSync(certificate.certFile),
        key: readFileSync(certificate.keyFile),
        ca: readFileSync(certificate.certFile),
        requestCert: true,
        rejectUnauthorized: false,
      },
      (request, response) => {
        if (!(request.socket as TLSSocket).authorized) {
          response.writeHead(401, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'a client certificate is needed' } }),
          );
          return;
        }
        const forwarded = httpRequest(
          {
            host: upstream.hostname,
            port: upstream.port,
            path: request.url,
            method: request.method,
            headers: request.headers,
          },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
          },
        );
        request.pipe(forwarded);
      },
    );
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
      const client = ['--tls-cert', certificate.certFile, '--tls-key', certificate.keyFile];
      const trusted = await run([
        'get',
        'vn',
        'red',
        '-o',
        'name',
        '--config-api',
        url,
        '--tls-ca',
        certificate.certFile,
        ...client,
      ]);
      assert.equal(trusted.code, 0, trusted.stderr);
      assert.equal(trusted.stdout, `virtual-network/${PROJECT}:red\n`);
      const untrusted = await run(['get', 'vn', '--config-api', url, ...client]);
      assert.equal(untrusted.code, 6);
      assert.match(untrusted.stderr, /self-signed certificate/);
      assert.equal((await run(['get', 'vn', '--config-api', url, '--insecure-skip-tls-verify', ...client])).code, 0);
      const anonymous = await run(['get', 'vn', '--config-api', url, '--tls-ca', certificate.certFile]);
      assert.equal(anonymous.code, 7, 'without its client certificate, refused');
    } finally {
      front.close();
      certificate.remove();
    }
  });

  test('contexts: made, chosen and listed; a flag, then a WEFT_CTL_* variable, win over the context', async () => {
    // The admin token, from the file that each context falls back on (a flag or a context's own token wins).
    const contexts = {
      WEFT_CTL_CONFIG: stack.env.WEFT_CTL_CONFIG!,
      WEFT_CTL_TOKEN_FILE: stack.env.WEFT_CTL_TOKEN_FILE!,
    };
    const token = adminHeaders()['x-auth-token'];
    const dead = `http://127.0.0.1:${await freePort()}`;
    const made = await weftctl(
      ['config', 'set-context', 'here', '--config-api', stack.env.WEFT_CTL_CONFIG_API!, '--token', token],
      contexts,
    );
    assert.equal(made.stdout.trim(), 'Context "here" created.', `exit ${made.code}: ${made.stderr}`);
    await weftctl(['config', 'set-context', 'there', '--config-api', dead], contexts);
    assert.equal((await weftctl(['config', 'use-context', 'there'], contexts)).code, 0);
    assert.equal(statSync(contexts.WEFT_CTL_CONFIG).mode & 0o777, 0o600, 'a file with tokens is its owner’s only');
    assert.equal((await weftctl(['get', 'vn'], contexts)).code, 6, 'the current context is used');
    assert.equal((await weftctl(['get', 'vn', '--context', 'here'], contexts)).code, 0, '--context chooses another');
    assert.equal(
      (await weftctl(['get', 'vn', '--config-api', stack.env.WEFT_CTL_CONFIG_API!], contexts)).code,
      0,
      'a flag wins',
    );
    assert.equal(
      (await weftctl(['get', 'vn'], { ...contexts, WEFT_CTL_CONFIG_API: stack.env.WEFT_CTL_CONFIG_API! })).code,
      0,
      'a variable wins',
    );
    assert.equal((await weftctl(['get', 'vn'], { ...contexts, WEFT_CTL_CONTEXT: 'here' })).code, 0);
    const listed = (await weftctl(['config', 'get-contexts'], contexts)).stdout;
    assert.match(listed, /^\s+local\s+http:\/\/127\.0\.0\.1:8082/m);
    assert.match(listed, /^\*\s+there\s+/m);
    const view = (await weftctl(['config', 'view', '--context', 'here'], contexts)).stdout;
    assert.match(view, /token: \(hidden\) {2}\(from context\)/);
    assert.equal(view.includes(token), false, 'the token is never shown');
    assert.equal((await weftctl(['config', 'use-context', 'nowhere'], contexts)).code, 3);
    assert.equal((await weftctl(['config', 'delete-context', 'there'], contexts)).code, 0);
    assert.equal((await weftctl(['config', 'current-context'], contexts)).stdout.trim(), 'local');
  });

  test('edit writes back what changed in $EDITOR, and nothing when nothing did', async () => {
    const editor = file('editor.sh', '#!/bin/sh\nsed -i "s/forwarding_mode: l2_l3/forwarding_mode: l3/" "$1"\n');
    spawnSync('chmod', ['+x', editor]);
    const edited = await run(['edit', 'vn', 'red'], { EDITOR: editor });
    assert.equal(edited.code, 0, edited.stderr);
    assert.equal(edited.stdout.trim(), `virtual-network/${PROJECT}:red edited`);
    assert.match((await run(['get', 'vn', 'red', '-o', 'yaml'])).stdout, /forwarding_mode: l3/);
    assert.equal(
      (await run(['edit', 'vn', 'red'], { EDITOR: 'true' })).stdout.trim(),
      'Edit cancelled, no changes made.',
    );
    const failing = await run(['edit', 'vn', 'red'], { EDITOR: 'false' });
    assert.equal(failing.code, 1);
    assert.match(failing.stderr, /EDITOR_FAILED/);
  });

  test('watch shows the objects, then each change as it commits; Ctrl-C ends it with 0', async () => {
    const watching = weftctlStarted(['watch', 'vn'], stack.env);
    await waitFor(() => /^EXISTING\s+default-domain:default-project:red\s/m.test(watching.output()), {
      what: 'the listing',
    });
    const green = `virtual-network:\n  fq_name: [default-domain, default-project, green]\n  parent_type: project\n`;
    assert.equal((await run(['create', '-f', '-'], {}, green)).code, 0);
    assert.equal((await run(['delete', 'vn', 'green'])).code, 0);
    await waitFor(
      () =>
        /^ADDED\s+default-domain:default-project:green\s/m.test(watching.output()) &&
        /^DELETED\s+default-domain:default-project:green\s/m.test(watching.output()),
      {
        what: `the changes in:\n${watching.output()}`,
      },
    );
    assert.equal(await watching.interrupt(), 0);

    const json = weftctlStarted(['watch', 'vn', 'red', '-o', 'json'], stack.env);
    await waitFor(() => json.output().includes('\n'), { what: 'the first event' });
    assert.equal(JSON.parse(json.output().split('\n')[0]!).event, 'EXISTING');
    assert.equal(await json.interrupt(), 0);
  });

  test('status, agents, routes, flows and datapath read the running system', async () => {
    let status = await run(['status']);
    await waitFor(
      async () => {
        status = await run(['status']);
        return status.code === 0 && (!isRoot || status.stdout.includes(`agent      ${stack.hostName}`));
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'every part to be ready' },
    ).catch(() =>
      assert.fail(
        `status stays not ready:\n${status.stdout}${status.stderr}\nthe stack said:\n${stack.output()}` +
          `\nthe agent's log ends:\n${stack.logTail('vrouter-agent')}\nanalytics' log ends:\n${stack.logTail('analytics')}`,
      ),
    );
    assert.match(status.stdout, /^KIND\s+NAME\s+READY\s+WHY$/m);
    for (const service of ['config-api', 'control', 'analytics'])
      assert.match(status.stdout, new RegExp(`^service\\s+${service} http\\S+\\s+yes`, 'm'));
    assert.match(status.stdout, /^reporter\s+analytics:\S+\s+yes/m);
    const statusJson = JSON.parse((await run(['status', '-o', 'json'])).stdout) as { kind: string; ready: boolean }[];
    assert.ok(statusJson.every((row) => row.ready));

    const routes = await run(['routes']);
    assert.match(routes.stdout, /^ROUTING INSTANCE\s+VRF\s+VNI\s+ROUTES\s+HOSTS\s+IMPORTS$/m);
    assert.match(routes.stdout, /^default-domain:default-project:red:red\s+\d+\s+\d+\s+0\s/m);
    const byNetwork = await run(['routes', '--vrf', 'red']);
    assert.equal(byNetwork.code, 0, byNetwork.stderr);
    assert.match(byNetwork.stdout, /^PREFIX\s+HOST\s+NEXT HOP/m);
    assert.equal((await run(['routes', '--vrf', 'nowhere'])).code, 3);

    const flows = await run(['flows', '--since', '5m', '--network', 'red']);
    assert.equal(flows.code, 0, flows.stderr);
    assert.match(flows.stdout, /^TIME\s+HOST\s+PROTO\s+SOURCE\s+DESTINATION\s+ACTION\s+PACKETS\s+BYTES$/m);
    assert.deepEqual(JSON.parse((await run(['flows', '-o', 'json'])).stdout), []);

    if (isRoot) {
      const agents = await run(['agents']);
      assert.match(agents.stdout, new RegExp(`^${stack.hostName}\\s+yes\\s`, 'm'));
      const datapath = await run(['datapath', '--host', stack.hostName]);
      assert.equal(datapath.code, 0, datapath.stderr);
      assert.match(datapath.stdout, new RegExp(`^host ${stack.hostName} \\(tc datapath\\)`, 'm'));
      assert.match(datapath.stdout, /^DROP REASON\s+PACKETS\n(\w+\s+\d+\n)*policy\s+\d+$/m);
      assert.equal((await run(['datapath', '--host', 'no-such-host'])).code, 3);
    }
  });

  test('completion scripts for bash and zsh, completing types and names from config-api', async () => {
    assert.match(
      (await run(['completion', 'bash'])).stdout,
      /complete -o bashdefault -o default -F _weftctl_yargs_completions weftctl/,
    );
    assert.match((await run(['completion', 'zsh'])).stdout, /compdef _weftctl_yargs_completions weftctl/);
    const types = (await run(['--get-yargs-completions', 'weftctl', 'get', ''])).stdout.split('\n');
    assert.ok(types.includes('virtual-network') && types.includes('network-policy'), types.join(' '));
    const names = (await run(['--get-yargs-completions', 'weftctl', 'get', 'vn', ''])).stdout.split('\n');
    assert.ok(names.includes(`${PROJECT}:red`), names.join(' '));
    assert.ok((await run(['--get-yargs-completions', 'weftctl', ''])).stdout.includes('probe'));
  });

  test('colour and progress on a terminal only', async () => {
    const env = { ...process.env, ...stack.env, PATH: `${join(weftctlPath, '..')}:${process.env.PATH}` };
    const onTerminal = (command: string) =>
      spawnSync('script', ['-qec', command, '/dev/null'], { env, encoding: 'utf8' }).stdout;
    assert.ok(onTerminal(`${weftctlPath} status`).includes(`${ESC}32myes`), 'ready in green on a terminal');
    assert.ok(!(await run(['status'])).stdout.includes(ESC), 'never in a pipe');
    assert.ok(!onTerminal(`NO_COLOR=1 ${weftctlPath} status`).includes(`${ESC}3`), 'NO_COLOR is obeyed');
    assert.match(
      onTerminal(`${weftctlPath} apply -f ${file('networks.yaml', NETWORKS)}`),
      /applying 2\/3/,
      'progress of a long apply',
    );
    assert.doesNotMatch((await run(['apply', '-f', join(files.path, 'networks.yaml')])).stderr, /applying/);
  });

  test('delete -f removes what the files made, the last first, and what is still referred to after', async () => {
    const deleted = await run(['delete', '-f', join(files.path, 'networks.yaml')]);
    assert.equal(deleted.code, 0, deleted.stderr);
    // The policy is still referred to by blue when its turn comes: it goes once blue has.
    assert.deepEqual(deleted.stdout.trim().split('\n'), [
      `virtual-network/${PROJECT}:red deleted`,
      `virtual-network/${PROJECT}:blue deleted`,
      `network-policy/${PROJECT}:red-blue deleted`,
    ]);
    const empty = await run(['get', 'vn']);
    assert.equal(empty.code, 0);
    assert.equal(empty.stderr, 'No virtual-network found.\n');
    assert.equal((await run(['delete', 'vn', 'red'])).code, 3);
    assert.equal((await run(['delete', 'vn', 'red', '--ignore-not-found'])).code, 0);
  });
});

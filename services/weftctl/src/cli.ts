// The command line of weftctl, on yargs: the global flags (one per setting of options.ts), every
// verb, and completion for bash and zsh that also completes resource types and object names
// from config-api. yargs was chosen over commander and clipanion for that completion: it writes
// the bash and zsh scripts itself and asks the program for candidates at run time.
import yargs, { type Argv } from 'yargs';
import * as contexts from './commands/config.js';
import { agents, routes } from './commands/control.js';
import { datapath } from './commands/datapath.js';
import { edit } from './commands/edit.js';
import { flows } from './commands/flows.js';
import { probe } from './commands/probe.js';
import { reportError } from './commands/report.js';
import { apiResources, describe, get, remove } from './commands/resources.js';
import { status } from './commands/status.js';
import { writeAll } from './commands/write.js';
import { CliError, EXIT, errors } from './errors.js';
import { CONFIG_FILE, CONTEXT, SETTINGS, type SettingKey } from './options.js';
import { terminal } from './output/terminal.js';
import { resolveType } from './resources.js';
import { type GlobalFlags, OUTPUT_FORMATS, Session } from './session.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };
/** "10s" → 10000 (checked by the option's check first). */
function durationMs(text: string): number {
  const [, amount, unit] = /^(\d+)(ms|s|m)$/.exec(text) ?? [];
  return Number(amount ?? 0) * (UNITS[unit ?? 's'] ?? 1000);
}

type Args = GlobalFlags & Record<string, unknown> & { _: (string | number)[] };

/** The verbs whose first argument is a resource type and whose next ones are its objects. */
const RESOURCE_VERBS = new Set(['get', 'describe', 'delete', 'edit', 'watch']);

function globals(cli: Argv): Argv {
  cli
    .option('context', { type: 'string', describe: `${CONTEXT.describe} [${CONTEXT.env}]`, global: true })
    .option('config', {
      type: 'string',
      describe: `${CONFIG_FILE.describe} [${CONFIG_FILE.env}, default ${CONFIG_FILE.default}]`,
      global: true,
    })
    .option('output', {
      alias: 'o',
      choices: OUTPUT_FORMATS,
      describe: 'output format (default table)',
      global: true,
    });
  for (const setting of SETTINGS) {
    cli.option(setting.key, {
      type: setting.boolean ? 'boolean' : 'string',
      describe: `${setting.describe} [${setting.env}]`,
      global: true,
      group: 'Context (flag > WEFT_CTL_* variable > context > built-in local context):',
    });
  }
  return cli;
}

/** Candidates for the word being completed: types, then names of that type, else yargs' own. */
async function complete(argv: Args, fallback: () => void, done: (candidates: string[]) => void): Promise<void> {
  const words = argv._.map(String).slice(1);
  const verb = words[0];
  if (!verb || !RESOURCE_VERBS.has(verb) || words.length < 2) {
    fallback();
    return;
  }
  try {
    const session = new Session(argv);
    const types = await session.configApi.types();
    if (words.length === 2) {
      done(types.map((type) => type.name));
      return;
    }
    const type = resolveType(types, words[1]!);
    done((await session.configApi.list(type, { detail: false })).map((object) => object.fq_name.join(':')));
  } catch {
    done([]);
  }
}

export function buildCli(argv: string[], setExit: (code: number) => void): Argv {
  const session = (args: unknown) => new Session(args as GlobalFlags);
  const cli = globals(yargs(argv))
    .scriptName('weftctl')
    .usage(
      '$0 <command> [options]\n\nThe command-line tool of Weft, on the public APIs of config-api, control, analytics and the agents.',
    )
    .command(
      'get <type> [names..]',
      'list objects of a type, or show some by name (fq_name a:b:c, short name, or uuid)',
      (y) =>
        y
          .positional('type', { type: 'string', describe: 'resource type (virtual-network, vn, …)' })
          .positional('names', { type: 'string', array: true }),
      async (a) => get(session(a), String(a.type), (a.names as string[] | undefined) ?? []),
    )
    .command(
      'describe <type> <name>',
      'an object in full: fields, references both ways, children (and, for a network, its routing instance)',
      (y) => y.positional('type', { type: 'string' }).positional('name', { type: 'string' }),
      async (a) => describe(session(a), String(a.type), String(a.name)),
    )
    .command(
      'create',
      'create the objects of files (YAML or JSON)',
      (y) =>
        y.option('filename', {
          alias: 'f',
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'file, or - for stdin',
        }),
      async (a) => setExit(await writeAll(session(a), a.filename as string[], 'create')),
    )
    .command(
      'apply',
      'create or update the objects of files by fq_name; objects already as the files say are left unchanged',
      (y) =>
        y.option('filename', {
          alias: 'f',
          type: 'string',
          array: true,
          demandOption: true,
          describe: 'file, or - for stdin',
        }),
      async (a) => setExit(await writeAll(session(a), a.filename as string[], 'apply')),
    )
    .command(
      'delete [type] [names..]',
      'delete objects by name, or those of files (-f)',
      (y) =>
        y
          .positional('type', { type: 'string' })
          .positional('names', { type: 'string', array: true })
          .option('filename', { alias: 'f', type: 'string', array: true, describe: 'file, or - for stdin' })
          .option('ignore-not-found', {
            type: 'boolean',
            default: false,
            describe: 'an object that is not there is no error',
          })
          .check((a) => {
            if ((a.filename as string[] | undefined)?.length) return true;
            if (a.type && (a.names as string[] | undefined)?.length) return true;
            throw errors.usage('give TYPE NAME… or -f FILE', '`weftctl delete --help`');
          }),
      async (a) =>
        remove(
          session(a),
          a.type as string | undefined,
          (a.names as string[] | undefined) ?? [],
          (a.filename as string[] | undefined) ?? [],
          Boolean(a['ignore-not-found']),
        ),
    )
    .command(
      'edit <type> <name>',
      'edit an object in $VISUAL or $EDITOR; what changed is written back',
      (y) => y.positional('type', { type: 'string' }).positional('name', { type: 'string' }),
      async (a) => edit(session(a), String(a.type), String(a.name)),
    )
    .command(
      'watch <type> [name]',
      'the objects of a type, then every change as it commits (config-api gRPC Watch), until Ctrl-C',
      (y) => y.positional('type', { type: 'string' }).positional('name', { type: 'string' }),
      // gRPC is loaded only for watch: every other command starts faster without it.
      async (a) =>
        (await import('./commands/watch.js')).watch(session(a), String(a.type), a.name as string | undefined),
    )
    .command('api-resources', 'the resource types config-api serves, with their short names', {}, async (a) =>
      apiResources(session(a)),
    )
    .command('status', 'every service and agent: ready or not, and why (exit code 8 when one is not)', {}, async (a) =>
      setExit(await status(session(a))),
    )
    .command('agents', 'the agents control knows: connected, synced, interfaces, ports', {}, async (a) =>
      agents(session(a)),
    )
    .command(
      'routes',
      'the routing instances control compiled, or the routes of one',
      (y) =>
        y.option('vrf', {
          type: 'string',
          describe: 'routing instance: its name, VRF id, or its network (red, a:b:red)',
        }),
      async (a) => routes(session(a), a.vrf as string | undefined),
    )
    .command(
      'flows',
      'flow records from analytics',
      (y) =>
        y
          .option('since', { type: 'string', default: '5m', describe: 'how far back: 30s, 5m, 2h, 1d' })
          .option('network', { type: 'string', describe: 'only flows from or to this network' })
          .option('follow', { type: 'boolean', default: false, describe: 'keep showing new records until Ctrl-C' })
          .check((a) => {
            if (!/^\d+(ms|s|m|h|d)$/.test(String(a.since)))
              throw errors.usage(`--since ${a.since}: expected a duration such as 30s, 5m, 2h or 1d`);
            return true;
          }),
      async (a) =>
        flows(session(a), {
          since: String(a.since),
          network: a.network as string | undefined,
          follow: Boolean(a.follow),
        }),
    )
    .command(
      'datapath',
      "one agent's datapath as its BPF maps hold it: interfaces, routes, drop counters by reason",
      (y) => y.option('host', { type: 'string', demandOption: true, describe: 'the host (virtual-router name)' }),
      async (a) => datapath(session(a), String(a.host)),
    )
    .command(
      'probe <from> <to>',
      "a packet from one pod to another run through the real datapath (BPF_PROG_TEST_RUN on the agents' live maps): the path it takes, each policy verdict and the rule, the tunnel, the delivery (exit code 8 when the outcome is not the one expected: delivered, unless --expect dropped)",
      (y) =>
        y
          .positional('from', { type: 'string', describe: 'pod (its virtual-machine: NAME, NAMESPACE/NAME or uuid)' })
          .positional('to', { type: 'string', describe: 'pod, or an address' })
          .option('protocol', { choices: ['icmp', 'tcp', 'udp'] as const, default: 'icmp' as const })
          .option('port', { type: 'number', default: 80, describe: 'destination port (tcp, udp)' })
          .option('from-network', {
            type: 'string',
            describe: "the source pod's interface on this network (default: its first)",
          })
          .option('to-network', {
            type: 'string',
            describe: "the destination pod's address on this network (default: its first)",
          })
          .option('ipv6', { type: 'boolean', default: false, describe: "between the pods' IPv6 addresses" })
          .option('expect', {
            choices: ['delivered', 'dropped'] as const,
            default: 'delivered' as const,
            describe: 'the outcome that exits 0',
          })
          .option('wait', {
            type: 'string',
            default: '0s',
            describe: 'probe again until the expected outcome, for up to this long (10s)',
          })
          .check((a) => {
            if (!/^\d+(ms|s|m)$/.test(String(a.wait)))
              throw errors.usage(`--wait ${a.wait}: expected a duration such as 500ms, 10s or 1m`);
            return true;
          }),
      async (a) =>
        setExit(
          await probe(session(a), {
            from: String(a.from),
            to: String(a.to),
            protocol: a.protocol as 'icmp' | 'tcp' | 'udp',
            port: Number(a.port),
            fromNetwork: a['from-network'] as string | undefined,
            toNetwork: a['to-network'] as string | undefined,
            ipv6: Boolean(a.ipv6),
            expect: a.expect as 'delivered' | 'dropped',
            waitMs: durationMs(String(a.wait)),
          }),
        ),
    )
    .command('config', 'contexts: where weftctl finds the services, with which token and TLS', (y) =>
      y
        .command('view', 'the settings in use and where each comes from', {}, (a) => contexts.view(session(a)))
        .command('get-contexts', 'every context', {}, (a) => contexts.getContexts(session(a)))
        .command('current-context', 'the context in use', {}, (a) => session(a).print(session(a).resolved.name))
        .command('use-context <name>', 'make a context the current one', {}, (a) =>
          contexts.useContext(session(a), String(a.name)),
        )
        .command(
          'set-context <name>',
          'create or change a context with the --config-api, --token, … flags given ("" removes one)',
          {},
          (a) =>
            contexts.setContext(
              session({ ...a, context: undefined }),
              String(a.name),
              Object.fromEntries(SETTINGS.map((s) => [s.key, a[s.key] as string | boolean | undefined])) as Partial<
                Record<SettingKey, string | boolean>
              >,
            ),
        )
        .command('delete-context <name>', 'remove a context', {}, (a) =>
          contexts.deleteContext(session(a), String(a.name)),
        )
        .demandCommand(
          1,
          'config needs a subcommand: view, get-contexts, current-context, use-context, set-context, delete-context',
        ),
    )
    .completion(
      'completion',
      'print the completion script: `weftctl completion bash` or `weftctl completion zsh`',
      (_current: string, argv: unknown, fallback: () => void, done: (candidates: string[]) => void) => {
        void complete(argv as Args, fallback, done);
      },
    )
    .demandCommand(1, 'say what to do: `weftctl --help` lists the commands')
    .strict()
    .recommendCommands()
    .wrap(process.stdout.isTTY ? Math.min(120, process.stdout.columns) : null)
    .epilogue(
      'Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 conflict, 5 refused as invalid, 6 unreachable, 7 unauthorized, 8 the answer is no (status not ready, probe dropped).',
    )
    .fail((message, error) => {
      if (error instanceof CliError) throw error;
      // The checks of commands throw usage errors of the catalog themselves.
      if (error) throw error;
      throw errors.usage(message, '`weftctl --help`, or `weftctl COMMAND --help`');
    });
  return cli;
}

/** Runs one command line; resolves to the exit code. */
export async function run(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // yargs writes the zsh script when SHELL says zsh: `weftctl completion zsh|bash` says it instead.
  if (argv[0] === 'completion' && (argv[1] === 'zsh' || argv[1] === 'bash')) {
    env.SHELL = argv[1] === 'zsh' ? '/bin/zsh' : '/bin/bash';
    delete env.ZSH_NAME;
    argv = ['completion'];
  }
  // `-f -` (standard input): yargs would take the lone dash for a stray argument.
  argv = argv.flatMap((word, index) =>
    word === '-' && ['-f', '--filename'].includes(argv[index - 1] ?? '')
      ? []
      : word === '-f' || word === '--filename'
        ? argv[index + 1] === '-'
          ? ['--filename=-']
          : [word]
        : [word],
  );
  let code: number = EXIT.ok;
  try {
    await buildCli(argv, (exit) => {
      code = exit;
    }).parseAsync();
  } catch (error) {
    reportError(terminal(env).colour && Boolean(process.stderr.isTTY), error);
    return error instanceof CliError ? error.exitCode : EXIT.failure;
  }
  return code;
}

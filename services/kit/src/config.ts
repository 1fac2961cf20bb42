// Daemon configuration: every option has a WEFT_* environment variable, a matching flag, a
// default that works on one machine, and a parser that says exactly what is wrong.
//
//   const spec = { restPort: option.port('WEFT_REST_PORT', 'REST listen port', 8082) };
//   const config = loadConfigOrExit('config-api', spec);   // config.restPort: number
//
// The flag of WEFT_REST_PORT is --rest-port; a flag wins over the environment. A WEFT_* variable
// that no option of the daemon declares stops it, naming the variable: a misspelt option or
// one meant for another daemon must not be silently ignored.
import { parseArgs } from 'node:util';

export interface OptionSpec<T> {
  env: string;
  description: string;
  default: T;
  /** What a valid value looks like, for the error message and --help. */
  expected: string;
  /** Parses the raw text, or returns undefined when it is not valid. */
  parse(raw: string): T | undefined;
  /** Keeps the value out of logs and error messages (passwords, tokens). */
  secret?: boolean;
  /** A port the daemon listens on by default (its image EXPOSEs it): tcp or udp. */
  listen?: 'tcp' | 'udp';
  /** The default as --help and the README show it, when the value itself is not (a duration, the host name). */
  shownDefault?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a spec maps names to options of any value type
export type ConfigSpec = Record<string, OptionSpec<any>>;
export type ConfigOf<S extends ConfigSpec> = { [K in keyof S]: S[K]['default'] };

/** A bad option value: names the option, the value and what is expected. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly option: string,
    readonly value: string,
    readonly expected: string,
    message = `invalid ${option}=${JSON.stringify(value)}: expected ${expected}`,
  ) {
    super(message);
  }
}

/** A WEFT_* variable that no option of the daemon declares. */
export class UnknownOptionError extends ConfigError {
  constructor(variable: string) {
    super(
      variable,
      '(not shown)',
      'an option this daemon declares',
      `unknown ${variable}: this daemon declares no such option (--help lists every option it takes)`,
    );
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** 300000 → "5m", 1500 → "1500ms": the largest unit that divides it. */
function durationText(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms > 0 && ms % DURATION_UNITS[unit]! === 0) return `${ms / DURATION_UNITS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}

/** The default of an option as people read it. */
export function shownDefault(item: OptionSpec<unknown>): string {
  if (item.shownDefault !== undefined) return item.shownDefault;
  if (Array.isArray(item.default)) return item.default.join(',');
  return String(item.default);
}

function integerIn(min: number, max: number) {
  return (raw: string) => {
    if (!/^-?\d+$/.test(raw.trim())) return undefined;
    const value = Number(raw);
    return value >= min && value <= max ? value : undefined;
  };
}

export const option = {
  string(env: string, description: string, defaultValue: string, { secret = false } = {}): OptionSpec<string> {
    return { env, description, default: defaultValue, expected: 'a string', parse: (raw) => raw, secret };
  },
  /** A non-empty string. */
  required(env: string, description: string, defaultValue: string): OptionSpec<string> {
    return {
      env,
      description,
      default: defaultValue,
      expected: 'a non-empty string',
      parse: (raw) => (raw.trim() === '' ? undefined : raw.trim()),
    };
  },
  integer(env: string, description: string, defaultValue: number, min = 0, max = Number.MAX_SAFE_INTEGER) {
    const spec: OptionSpec<number> = {
      env,
      description,
      default: defaultValue,
      expected: `an integer from ${min} to ${max}`,
      parse: integerIn(min, max),
    };
    return spec;
  },
  /** A port; 0 asks the kernel for a free one (tests use that). `listen`: the daemon serves on it. */
  port(
    env: string,
    description: string,
    defaultValue: number,
    { listen }: { listen?: 'tcp' | 'udp' } = {},
  ): OptionSpec<number> {
    return {
      env,
      description,
      default: defaultValue,
      expected: 'a port number from 0 to 65535',
      parse: integerIn(0, 65535),
      ...(listen ? { listen } : {}),
    };
  },
  boolean(env: string, description: string, defaultValue: boolean): OptionSpec<boolean> {
    return {
      env,
      description,
      default: defaultValue,
      expected: 'true or false',
      parse: (raw) => {
        const value = raw.trim().toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(value)) return true;
        if (['false', '0', 'no', 'off'].includes(value)) return false;
        return undefined;
      },
    };
  },
  /** A duration in milliseconds, written "250ms", "10s", "5m", "1h" or a plain number of ms. */
  duration(env: string, description: string, defaultMs: number): OptionSpec<number> {
    return {
      env,
      description,
      default: defaultMs,
      shownDefault: durationText(defaultMs),
      expected: 'a duration such as 500ms, 10s, 5m or 1h',
      parse: (raw) => {
        const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
        if (!match) return undefined;
        return Math.round(Number(match[1]) * (DURATION_UNITS[match[2] ?? 'ms'] ?? 1));
      },
    };
  },
  oneOf<const T extends string>(env: string, description: string, values: readonly T[], defaultValue: T) {
    const spec: OptionSpec<T> = {
      env,
      description,
      default: defaultValue,
      expected: `one of ${values.join(', ')}`,
      parse: (raw) => values.find((value) => value === raw.trim()),
    };
    return spec;
  },
  /** A comma-separated list; empty items are dropped. */
  list(env: string, description: string, defaultValue: string[]): OptionSpec<string[]> {
    return {
      env,
      description,
      default: defaultValue,
      expected: 'a comma-separated list',
      parse: (raw) =>
        raw
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== ''),
    };
  },
  /** A list of URLs with the given schemes, e.g. NATS servers "nats://127.0.0.1:4222". */
  urls(env: string, description: string, defaultValue: string[], schemes: string[]): OptionSpec<string[]> {
    return {
      env,
      description,
      default: defaultValue,
      expected: `a comma-separated list of ${schemes.join(' or ')} URLs`,
      parse: (raw) => {
        const items = raw
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '');
        if (items.length === 0) return undefined;
        for (const item of items) {
          try {
            if (!schemes.includes(new URL(item).protocol.replace(/:$/, ''))) return undefined;
          } catch {
            return undefined;
          }
        }
        return items;
      },
    };
  },
};

/** WEFT_REST_PORT → rest-port */
export function flagName(env: string): string {
  return env
    .replace(/^WEFT_/, '')
    .toLowerCase()
    .replace(/_/g, '-');
}

/** Reads every option from flags, then the environment, then the default. Throws ConfigError. */
export function loadConfig<S extends ConfigSpec>(
  spec: S,
  { env = process.env, argv = process.argv.slice(2) }: { env?: NodeJS.ProcessEnv; argv?: string[] } = {},
): ConfigOf<S> {
  const flagOptions = Object.fromEntries(
    Object.values(spec).map((item) => [flagName(item.env), { type: 'string' as const }]),
  );
  let flags: Record<string, string | boolean | undefined>;
  try {
    flags = parseArgs({ args: argv, options: flagOptions, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(
      'command line',
      argv.join(' '),
      `only these flags: ${Object.keys(flagOptions)
        .map((f) => `--${f}`)
        .join(', ')} (${message})`,
    );
  }
  const declared = new Set(Object.values(spec).map((item) => item.env));
  const unknown = Object.keys(env)
    .filter((name) => name.startsWith('WEFT_') && !declared.has(name))
    .sort();
  if (unknown.length > 0) throw new UnknownOptionError(unknown[0]!);
  const config: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(spec)) {
    const fromFlag = flags[flagName(item.env)];
    const raw = typeof fromFlag === 'string' ? fromFlag : env[item.env];
    if (raw === undefined) {
      config[key] = item.default;
      continue;
    }
    const value = item.parse(raw);
    if (value === undefined) {
      const source = typeof fromFlag === 'string' ? `--${flagName(item.env)}` : item.env;
      throw new ConfigError(source, item.secret ? '(hidden)' : raw, item.expected);
    }
    config[key] = value;
  }
  return config as ConfigOf<S>;
}

/** The options as a table for --help and the service READMEs. */
export function describeConfig(spec: ConfigSpec): string {
  return Object.values(spec)
    .map((item) => {
      const shown = item.secret ? '(hidden)' : JSON.stringify(shownDefault(item));
      return `  ${item.env} / --${flagName(item.env)}\n      ${item.description} (${item.expected}; default ${shown})`;
    })
    .join('\n');
}

/** A default in a README table: code, or prose when it says where the value comes from ("the host name"). */
function defaultCell(item: OptionSpec<unknown>): string {
  const shown = shownDefault(item);
  if (item.secret || shown === '') return '';
  return shown.includes(' ') ? shown : `\`${shown}\``;
}

/** The options as the Markdown table of a service README (checked against the README by test/e2e/options.test.ts). */
export function optionsTable(spec: ConfigSpec): string {
  const rows = Object.values(spec).map((item) => [
    `\`${item.env}\``,
    `\`--${flagName(item.env)}\``,
    defaultCell(item),
    `${item.description.replace(/\|/g, '\\|')} (${item.expected})`,
  ]);
  const header = ['environment', 'flag', 'default', 'meaning'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The declaration as JSON, for tools that start the daemon (the local stack, the image runner). */
export function optionsJson(spec: ConfigSpec): string {
  return JSON.stringify(
    Object.values(spec).map((item) => ({
      env: item.env,
      flag: `--${flagName(item.env)}`,
      description: item.description,
      expected: item.expected,
      ...(item.secret ? { secret: true } : { default: item.default }),
      ...(item.listen ? { listen: item.listen } : {}),
    })),
  );
}

/**
 * For a daemon's main: loads the config, or prints one line naming the bad option and exits 2.
 * `--help` prints every option and exits 0; `--options-json` prints them as JSON and exits 0.
 */
export function loadConfigOrExit<S extends ConfigSpec>(service: string, spec: S): ConfigOf<S> {
  if (process.argv.includes('--help')) {
    process.stdout.write(`weft-${service} options (environment variable / flag):\n${describeConfig(spec)}\n`);
    process.exit(0);
  }
  if (process.argv.includes('--options-json')) {
    process.stdout.write(`${optionsJson(spec)}\n`);
    process.exit(0);
  }
  try {
    return loadConfig(spec);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`weft-${service}: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

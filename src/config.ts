import { GATEWAY, RETENTION, TUNING, type LOG_LEVELS, type GRAPHQL_EXECUTORS, type ValuesOf } from './config/variables.js';
import { PROVIDERS, providerConfig, type ProviderConfig } from './config/providers.js';
import type { Variable } from './config/parsers.js';

/**
 * Configuration: read from the environment once, validated, frozen. Every variable is declared
 * once, with its parser, default and doc line, in config/variables.ts (the providers' in
 * config/providers.ts); `Config` is the type of what they read, and docs/environment.md is rendered
 * from them. A bad environment stops the process with one message naming every bad variable,
 * instead of failing later in a request. This module imports no layer of the gateway.
 */
export type LogLevel = (typeof LOG_LEVELS)[number];
export type ExecutorKind = (typeof GRAPHQL_EXECUTORS)[number];

export type Config = ValuesOf<typeof GATEWAY> & {
  readonly retention: ValuesOf<typeof RETENTION>;
  readonly tuning: ValuesOf<typeof TUNING>;
  readonly providers: ProviderConfig;
};

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

/** Every variable, in the order the docs list them and problems are reported. */
export const VARIABLE_GROUPS = { gateway: GATEWAY, retention: RETENTION, tuning: TUNING, providers: PROVIDERS } as const;

/** Reads one group's variables; each bad one adds `NAME must be …, got "…"` to `problems`. */
function read<G extends Record<string, Variable<unknown>>>(group: G, env: Env, problems: string[]): ValuesOf<G> {
  const values: Record<string, unknown> = {};
  for (const [key, variable] of Object.entries(group)) {
    const result = variable.schema.safeParse(env[variable.name]);
    if (result.success) values[key] = result.data;
    else problems.push(...result.error.issues.map((issue) => `${variable.name} ${issue.message}`));
  }
  return values as ValuesOf<G>;
}

/**
 * The configuration of this process: every variable parsed in one place. A bad environment
 * throws one ConfigError listing every bad variable, one per line (`NAME must be …, got "…"`).
 */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Config {
  const problems: string[] = [];
  const gateway = read(GATEWAY, env, problems);
  const retention = read(RETENTION, env, problems);
  const tuning = read(TUNING, env, problems);
  const providers = providerConfig(read(PROVIDERS, env, problems), (name) => env[name] !== undefined && env[name] !== '', problems);
  if (problems.length) throw new ConfigError(problems.join('\n'));
  const { tuning: tuningOverride, ...rest } = overrides;
  const config: Omit<Config, 'tuning'> = { ...gateway, retention, providers, ...rest };
  // After the overrides: the derived values (0, unset) follow the timeouts a test or bench sets.
  const derived: Config['tuning'] = tuningOverride ?? {
    ...tuning,
    providerSweepMs: tuning.providerSweepMs || Math.min(15_000, Math.max(50, Math.min(config.commandTimeoutMs, config.callSetupTimeoutMs) / 4)),
    simulatorSweepMs: tuning.simulatorSweepMs || Math.max(1_000, 5_000 * config.simulatorTimeScale),
    wsKeyRecheckMs: tuning.wsKeyRecheckMs || Math.max(1_000, config.authCacheTtlMs),
  };
  return Object.freeze({ ...config, tuning: derived });
}

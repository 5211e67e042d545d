import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * How one environment variable is read: unset or empty takes the default; a bad value is an issue
 * that says what the variable must be and what it got (the variable's name is put before it).
 * zod collects the issues, so an operator sees every bad variable in one message, one line each.
 */
export interface Parser<T> {
  readonly schema: z.ZodType<T, string | undefined>;
  /** The default as the docs show it. */
  readonly default: string;
}

/** One environment variable: its name, how it is read, and one line of documentation (docs/environment.md is rendered from these). */
export interface Variable<T> extends Parser<T> {
  readonly name: string;
  readonly doc: string;
}

export function variable<T>(name: string, parser: Parser<T>, doc: string): Variable<T> {
  return { name, doc, ...parser };
}

const unset = (raw: string | undefined): raw is undefined | '' => raw === undefined || raw === '';
const fail = (ctx: z.RefinementCtx, message: string) => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

function parser<T>(unsetValue: T, defaultText: string, parse: (raw: string, ctx: z.RefinementCtx) => T): Parser<T> {
  return {
    schema: z
      .string()
      .optional()
      .transform((raw, ctx) => (unset(raw) ? unsetValue : parse(raw, ctx))),
    default: defaultText,
  };
}

/** The same parser, with the default described in words (a value derived from others). */
export function describedDefault<T>(base: Parser<T>, text: string): Parser<T> {
  return { ...base, default: text };
}

/** The same parser, refusing what `allowed` rejects with `message`. */
export function refined<T>(base: Parser<T>, allowed: (value: T) => boolean, message: string): Parser<T> {
  return { ...base, schema: base.schema.refine(allowed, message) };
}

export function integer(fallback: number, min: number, max: number): Parser<number> {
  return parser(fallback, String(fallback), (raw, ctx) => {
    const value = Number(raw);
    return Number.isInteger(value) && value >= min && value <= max ? value : fail(ctx, `must be an integer from ${min} to ${max}, got "${raw}"`);
  });
}

export function positive(fallback: number, max: number): Parser<number> {
  return parser(fallback, String(fallback), (raw, ctx) => {
    const value = Number(raw);
    return Number.isFinite(value) && value > 0 && value <= max ? value : fail(ctx, `must be a number above 0 and at most ${max}, got "${raw}"`);
  });
}

function redact(raw: string): string {
  return raw.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
}

/** A URL of one of `protocols`; unset: undefined, or `fallback`. `rewrite` maps the raw value first (wss: to https:). */
export function url(
  protocols: string[],
  options: { fallback?: string; trimSlash?: boolean; rewrite?: (raw: string) => string } = {},
): Parser<string | undefined> {
  const read = (raw: string, ctx: z.RefinementCtx) => {
    const value = options.rewrite ? options.rewrite(raw) : raw;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return fail(ctx, `is not a URL: "${redact(raw)}"`);
    }
    if (!protocols.includes(parsed.protocol)) return fail(ctx, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
    return options.trimSlash ? value.replace(/\/+$/, '') : value;
  };
  return {
    schema: z
      .string()
      .optional()
      .transform((raw, ctx) => (unset(raw) ? (options.fallback === undefined ? undefined : read(options.fallback, ctx)) : read(raw, ctx))),
    default: options.fallback ?? 'unset',
  };
}

export const bool: Parser<boolean> = parser(false, 'false', (raw, ctx) => {
  if (raw === 'false' || raw === '0') return false;
  return raw === 'true' || raw === '1' ? true : fail(ctx, `must be true or false, got "${raw}"`);
});

export function oneOf<T extends string>(values: readonly T[], fallback: T = values[0]!): Parser<T> {
  return parser(fallback, fallback, (raw, ctx) =>
    (values as readonly string[]).includes(raw) ? (raw as T) : fail(ctx, `must be one of ${values.join(', ')}, got "${raw}"`),
  );
}

export function text(fallback: string): Parser<string> {
  return parser(fallback, fallback === '' ? 'unset' : fallback, (raw) => raw);
}

/** Text that is unset (undefined) unless given. */
export const optionalText: Parser<string | undefined> = parser<string | undefined>(undefined, 'unset', (raw) => raw);

/** Text of at most `max` characters with no control characters. */
export function plainText(fallback: string, max: number): Parser<string> {
  return parser(fallback, `"${fallback}"`, (raw, ctx) =>
    raw.length > max || /[\u0000-\u001f]/.test(raw) ? fail(ctx, `must be at most ${max} characters with no control characters`) : raw,
  );
}

/** A list of comma-separated values, each read by `item` (which refuses with its own message); unset: `fallback`. */
function list<T>(fallback: readonly T[], defaultText: string, read: (items: string[]) => T[] | string): Parser<T[]> {
  return parser([...fallback], defaultText, (raw, ctx) => {
    const parsed = read(raw.split(',').map((part) => part.trim()));
    return typeof parsed === 'string' ? fail(ctx, `${parsed}, got "${raw}"`) : parsed;
  });
}

/** Delays in ms: 1 to `most` of them, each 0 to a day. */
export function delays(fallback: readonly number[], most: number): Parser<number[]> {
  return list(fallback, fallback.join(','), (parts) => {
    const values = parts.map(Number);
    return values.length < 1 || values.length > most || values.some((value) => !Number.isInteger(value) || value < 0 || value > 86_400_000)
      ? `must be 1 to ${most} comma-separated delays in ms (0 to 86400000)`
      : values;
  });
}

/** Up to 8 DNS servers: what dns.Resolver.setServers takes (an IP address, [IPv6]:port or IPv4:port). */
export const dnsServers: Parser<string[]> = list<string>([], "the system's", (servers) => {
  const valid = (server: string) => isIP(server) !== 0 || /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}$/.test(server);
  return servers.length > 8 || !servers.every(valid) ? 'must be up to 8 comma-separated DNS server addresses (IP or IP:port)' : servers;
});

/** A value read by `read` (which throws with the message), or `unsetValue`. */
export function parsed<T>(unsetValue: T, defaultText: string, read: (raw: string) => T): Parser<T> {
  return parser(unsetValue, defaultText, (raw, ctx) => {
    try {
      return read(raw);
    } catch (error) {
      return fail(ctx, (error as Error).message);
    }
  });
}

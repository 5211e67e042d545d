/**
 * Browser origins an application allows (CORS): `scheme://host[:port]`, http or https, as
 * browsers send them in `Origin` (lower-case host, no default port, no path). At most
 * MAX_ORIGINS per application, so the check per request stays a set lookup.
 */
const MAX_ORIGINS = 50;
const MAX_ORIGIN_LENGTH = 200;

export class OriginError extends Error {}

/** The origin as a browser sends it, or an OriginError saying what is wrong. */
function normalizeOrigin(raw: string): string {
  const text = raw.trim();
  if (!text || text.length > MAX_ORIGIN_LENGTH) throw new OriginError(`An origin is 1 to ${MAX_ORIGIN_LENGTH} characters: "${text.slice(0, 40)}"`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OriginError(`Not an origin (scheme://host[:port]): "${text}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OriginError(`An origin is http or https: "${text}"`);
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw new OriginError(`An origin has no path, query, fragment or credentials: "${text}"`);
  }
  return url.origin;
}

/** A whole list (`apps origins --set`): normalized, deduplicated, at most MAX_ORIGINS. */
export function normalizeOrigins(raw: readonly string[]): string[] {
  const origins = [...new Set(raw.filter((entry) => entry.trim() !== '').map(normalizeOrigin))];
  if (origins.length > MAX_ORIGINS) throw new OriginError(`At most ${MAX_ORIGINS} origins per application`);
  return origins;
}

/** Whether a header value could be an allowed origin at all (bounded before any lookup). */
export function plausibleOrigin(origin: string): boolean {
  return origin.length <= MAX_ORIGIN_LENGTH && /^https?:\/\/[^/\s]+$/.test(origin);
}

/** Where allowed origins are kept (db/pg-origin-store.ts). */
export interface OriginStore {
  /** Whether any application allows the origin (a preflight carries no credentials). */
  anyAllows(origin: string): Promise<boolean>;
  /** The origins one application allows. */
  originsOf(appId: string): Promise<readonly string[]>;
}

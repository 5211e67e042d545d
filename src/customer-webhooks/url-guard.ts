import { Resolver } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import dns from 'node:dns';
import { LRUCache } from 'lru-cache';
import type { UrlGuard } from '../domain/webhook-endpoints.js';
import type { Logger } from '../domain/logger.js';

/**
 * Addresses a hosted service must never be made to call (SSRF). Only public unicast addresses
 * pass: ipaddr.js (the range table express's proxy-addr uses) names every special range —
 * loopback, private, link-local (cloud metadata at 169.254.169.254), carrier-grade NAT,
 * multicast, reserved, NAT64 (64:ff9b::/96), 6to4 (2002::/16), Teredo, discard (100::/64) … —
 * and anything but `unicast` is refused. IPv4-mapped IPv6 in either spelling (::ffff:10.0.0.1,
 * ::ffff:a00:1) is checked as the IPv4 address it reaches; the deprecated IPv4-compatible
 * ::/96 and everything outside global unicast 2000::/3 (and the local-use NAT64 64:ff9b:1::/48)
 * are refused outright.
 */
const GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const LOCAL_NAT64 = ipaddr.parseCIDR('64:ff9b:1::/48');

export function isBlockedAddress(address: string): boolean {
  if (isIP(address) === 0) return true;
  let ip: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(address);
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) ip = v6.toIPv4Address();
    else if (v6.parts.slice(0, 6).every((part) => part === 0) || !v6.match(GLOBAL_UNICAST) || v6.match(LOCAL_NAT64)) return true;
  }
  return ip.range() !== 'unicast';
}

export interface PublicResolverOptions {
  /** DNS servers to ask (host or host:port); default the system's (WEBHOOK_DNS_SERVERS). */
  servers?: readonly string[];
  /** A name not resolved by then is refused (WEBHOOK_DNS_TIMEOUT_MS). */
  timeoutMs: number;
}

/**
 * Resolves the names of webhook URLs (endpoints, statusCallbackUrl) for the SSRF guard and for
 * delivery. Not with dns.lookup: getaddrinfo runs on libuv's 4-thread pool, so a few names whose
 * DNS never answers (anyone can run such a server) would hold every thread for the resolver's
 * timeouts and stall file, crypto and DNS work of every tenant. c-ares (dns.Resolver) queries
 * off that pool; each lookup gets `timeoutMs` in all; an answer is remembered for its records' TTL
 * (at most a minute), a failure for 3 s (a delivery retried 5 s later asks again), 10,000 names at
 * most, and one lookup of a name serves every concurrent caller.
 * /etc/hosts is not read, so `localhost` names are refused by name (RFC 6761: they are loopback).
 */
const MAX_ANSWER_TTL_MS = 60_000;
const FAILURE_TTL_MS = 3_000;

export class PublicResolver {
  private readonly resolver: Resolver;
  private readonly answers = new LRUCache<string, Promise<string[]>>({ max: 10_000, ttl: MAX_ANSWER_TTL_MS });

  constructor(private readonly options: PublicResolverOptions) {
    this.resolver = new Resolver({ timeout: Math.max(50, Math.floor(options.timeoutMs / 2)), tries: 2 });
    if (options.servers?.length) this.resolver.setServers([...options.servers]);
  }

  /** Every A and AAAA address of `host`; rejects when it has none or does not answer in time. */
  addresses(host: string): Promise<string[]> {
    const known = this.answers.get(host);
    if (known) return known;
    const resolving = this.resolve(host);
    const answer = resolving.then((found) => found.addresses);
    this.answers.set(host, answer);
    // Kept for the records' TTL, a failure briefly (unless the entry was replaced meanwhile).
    const keep = (ttl: number) => {
      if (this.answers.get(host) === answer) this.answers.set(host, answer, { ttl });
    };
    resolving.then(
      (found) => keep(found.ttlMs),
      () => keep(FAILURE_TTL_MS),
    );
    answer.catch(() => {});
    return answer;
  }

  private async resolve(host: string): Promise<{ addresses: string[]; ttlMs: number }> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(Object.assign(new Error(`${host} did not resolve within ${this.options.timeoutMs} ms`), { code: 'ETIMEOUT' })),
        this.options.timeoutMs,
      );
    });
    try {
      const none: { address: string; ttl: number }[] = [];
      const [v4, v6] = await Promise.race([
        Promise.all([this.resolver.resolve4(host, { ttl: true }).catch(() => none), this.resolver.resolve6(host, { ttl: true }).catch(() => none)]),
        deadline,
      ]);
      const all = [...v4, ...v6];
      if (all.length === 0) throw Object.assign(new Error(`${host} does not resolve`), { code: 'ENOTFOUND' });
      const ttl = Math.min(...all.map((record) => record.ttl));
      return { addresses: all.map((record) => record.address), ttlMs: Math.min(MAX_ANSWER_TTL_MS, Math.max(1_000, ttl * 1000)) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `localhost` and `*.localhost`: loopback by definition, whatever a resolver says. */
function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** Checks every address the host resolves to (at creation; delivery checks again, see safeLookup). */
export class DnsUrlGuard implements UrlGuard {
  constructor(
    private readonly resolver: PublicResolver,
    /** Where the address a refused name resolved to is told: never the caller, who could map internal DNS with it. */
    private readonly logger?: Logger,
  ) {}

  async problem(url: URL): Promise<string | null> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isLocalhostName(host)) return `${host} is a loopback name`;
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : await this.resolver.addresses(host);
    } catch (error) {
      return (error as Error).message;
    }
    const blocked = addresses.find(isBlockedAddress);
    if (!blocked) return null;
    if (isIP(host)) return `${host} is a loopback, private or link-local address`;
    this.logger?.info('webhook URL refused: its name resolves to a blocked address', { host, address: blocked });
    return `${host} resolves to a loopback, private or link-local address`;
  }
}

/**
 * A `lookup` for http.request that refuses blocked addresses at connection time: the address
 * checked is the address connected to, so DNS rebinding between creation and delivery fails.
 * Public names go through `resolver` (off the thread pool, with its deadline); with private
 * addresses allowed (local development, tests), the system's lookup, /etc/hosts included.
 */
export function safeLookup(allowPrivate: boolean, resolver: PublicResolver): LookupFunction {
  return (hostname, options, callback) => {
    const found = (list: { address: string; family: number }[]) => {
      const usable = allowPrivate ? list : list.filter((entry) => !isBlockedAddress(entry.address));
      if (usable.length === 0) return callback(Object.assign(new Error(`${hostname} resolves only to blocked addresses`), { code: 'EBLOCKED' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    };
    if (allowPrivate) {
      dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, '', 0);
        found(addresses as unknown as dns.LookupAddress[]);
      });
      return;
    }
    if (isLocalhostName(hostname)) return found([{ address: '127.0.0.1', family: 4 }]);
    resolver.addresses(hostname).then(
      (addresses) => found(addresses.map((address) => ({ address, family: isIP(address) }))),
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}

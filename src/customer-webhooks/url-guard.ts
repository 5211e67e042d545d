import { lookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import dns from 'node:dns';
import type { UrlGuard } from '../domain/webhook-endpoints.js';

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

/** Checks every address the host resolves to (at creation; delivery checks again, see safeLookup). */
export class DnsUrlGuard implements UrlGuard {
  async problem(url: URL): Promise<string | null> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    try {
      addresses = isIP(host) ? [host] : (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    } catch {
      return `${host} does not resolve`;
    }
    const blocked = addresses.find(isBlockedAddress);
    return blocked ? `${host} resolves to ${blocked}, a loopback, private or link-local address` : null;
  }
}

/**
 * A `lookup` for http.request that refuses blocked addresses at connection time: the address
 * checked is the address connected to, so DNS rebinding between creation and delivery fails.
 */
export function safeLookup(allowPrivate: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const list = addresses as unknown as dns.LookupAddress[];
      const usable = allowPrivate ? list : list.filter((entry) => !isBlockedAddress(entry.address));
      if (usable.length === 0) return callback(Object.assign(new Error(`${hostname} resolves only to blocked addresses`), { code: 'EBLOCKED' }), '', 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}

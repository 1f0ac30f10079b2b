import ipaddr from 'ipaddr.js';

/**
 * IP allowlists (SECURITY.md R20–R22). CIDRs are parsed strictly and stored in canonical form; IPv4 and
 * IPv6 rules live in separate lists and are matched independently; an IPv4-mapped IPv6 client address
 * (`::ffff:a.b.c.d`) is matched as IPv4. Node's `net.BlockList` is not used: it lets `::/0` match IPv4.
 */
export type CidrFamily = 'ipv4' | 'ipv6';

export interface ParsedCidr {
  readonly family: CidrFamily;
  readonly canonical: string;
  readonly range: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

const strictIpv4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;
const ipv6Chars = /^[0-9A-Fa-f:.]+$/;

export class CidrError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(message);
  }
}

function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (strictIpv4.test(text)) return ipaddr.IPv4.parse(text);
  // IPv6: no zone ids, no brackets; embedded IPv4 tails must be strict too.
  if (!text.includes(':') || !ipv6Chars.test(text)) return null;
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (tail.includes('.') && !strictIpv4.test(tail)) return null;
  if (!ipaddr.IPv6.isValid(text)) return null;
  return ipaddr.IPv6.parse(text);
}

/**
 * Parses `a.b.c.d/n` or `x:y::z/n` strictly: decimal dotted quads only (no leading zeros, octal, hex or
 * short forms), no zone ids, a prefix in range, and no host bits set. A bare address is a /32 or /128.
 */
export function parseCidr(input: string): ParsedCidr {
  const text = input.trim();
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  const address = parseAddress(addressText);
  if (!address) throw new CidrError(input, `"${input}" is not a valid IPv4 or IPv6 address range`);
  const family: CidrFamily = address.kind() === 'ipv4' ? 'ipv4' : 'ipv6';
  const maxPrefix = family === 'ipv4' ? 32 : 128;
  let prefix = maxPrefix;
  if (prefixText !== null) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) throw new CidrError(input, `"${input}" has an invalid prefix length`);
    prefix = Number(prefixText);
    if (prefix > maxPrefix) throw new CidrError(input, `"${input}": the prefix must be between 0 and ${maxPrefix}`);
  }
  const network = family === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefix}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
  if (network.toString() !== address.toString()) {
    throw new CidrError(input, `"${input}" has host bits set; did you mean ${network.toString()}/${prefix}?`);
  }
  const canonical = `${family === 'ipv6' ? (address as ipaddr.IPv6).toRFC5952String() : address.toString()}/${prefix}`;
  return { family, canonical, range: [address, prefix] };
}

export function isWildcardCidr(canonical: string): boolean {
  return canonical === '0.0.0.0/0' || canonical === '::/0';
}

/** A client address, unmapped: `::ffff:10.0.0.1` becomes `10.0.0.1`. Null when it does not parse. */
export function parseClientAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  try {
    const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
    const zoneless = bare.includes('%') ? bare.slice(0, bare.indexOf('%')) : bare;
    if (!zoneless.includes(':')) return strictIpv4.test(zoneless) ? ipaddr.IPv4.parse(zoneless) : null;
    const tail = zoneless.slice(zoneless.lastIndexOf(':') + 1);
    if (tail.includes('.') && !strictIpv4.test(tail)) return null;
    if (!ipaddr.IPv6.isValid(zoneless)) return null;
    return ipaddr.process(zoneless);
  } catch {
    return null;
  }
}

/** The canonical client address string (unmapped), or the input when it does not parse. */
export function normalizeClientAddress(text: string): string {
  const address = parseClientAddress(text);
  return address ? address.toString() : text;
}

/** A compiled allowlist: one list per family, so an IPv6 rule can never match an IPv4 client. */
export class IpAllowlist {
  private readonly v4: [ipaddr.IPv4, number][] = [];
  private readonly v6: [ipaddr.IPv6, number][] = [];

  constructor(canonicalCidrs: readonly string[]) {
    for (const cidr of canonicalCidrs) {
      const parsed = parseCidr(cidr);
      if (parsed.family === 'ipv4') this.v4.push(parsed.range as [ipaddr.IPv4, number]);
      else this.v6.push(parsed.range as [ipaddr.IPv6, number]);
    }
  }

  /** An empty list allows any address. */
  get isOpen(): boolean {
    return this.v4.length === 0 && this.v6.length === 0;
  }

  allows(clientAddress: string | undefined): boolean {
    if (this.isOpen) return true;
    if (clientAddress === undefined) return false;
    const address = parseClientAddress(clientAddress);
    if (!address) return false;
    if (address.kind() === 'ipv4') {
      const v4 = address as ipaddr.IPv4;
      return this.v4.some((range) => v4.match(range));
    }
    const v6 = address as ipaddr.IPv6;
    return this.v6.some((range) => v6.match(range));
  }
}

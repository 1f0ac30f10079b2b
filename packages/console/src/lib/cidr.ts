/**
 * Inline checks of allowed IP ranges, mirroring the server's strict parser (core/network/cidr.ts):
 * dotted-quad IPv4 without leading zeros, IPv6 without zone ids, a prefix in range, no host bits set.
 * The server stays the authority; this only lets people see a mistake before they submit.
 */
export type CidrCheck =
  | { ok: true; canonical: string; family: 'ipv4' | 'ipv6'; wildcard: boolean }
  | { ok: false; message: string; /** The range probably meant (host bits cleared), offered as a one-click fix. */ suggestion?: string };

const strictIpv4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;

function ipv4Bytes(text: string): number[] | null {
  if (!strictIpv4.test(text)) return null;
  return text.split('.').map(Number);
}

/** The 16 bytes of an IPv6 address, or null. Accepts `::` compression and an IPv4 tail. */
function ipv6Bytes(text: string): number[] | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(text) || !text.includes(':')) return null;
  let head = text;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = ipv4Bytes(text.slice(lastColon + 1));
    if (!v4) return null;
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = text.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsWanted = 8 - tail.length;
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const group of part.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(group)) return null;
      out.push(parseInt(group, 16));
    }
    return out;
  };
  let groups: number[];
  if (halves.length === 2) {
    const left = parse(halves[0]!);
    const right = parse(halves[1]!);
    if (!left || !right) return null;
    const missing = groupsWanted - left.length - right.length;
    if (missing < 1) return null;
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    const all = parse(head);
    if (!all || all.length !== groupsWanted) return null;
    groups = all;
  }
  groups = [...groups, ...tail];
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

function hostBitsSet(bytes: number[], prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) return true;
  }
  return false;
}

function networkOf(bytes: number[], prefix: number): number[] {
  return bytes.map((byte, index) => {
    const keep = Math.max(0, Math.min(8, prefix - index * 8));
    return keep === 0 ? 0 : byte & (0xff << (8 - keep)) & 0xff;
  });
}

/** RFC 5952: lowercase, no leading zeros, the longest run (2+) of zero groups as `::`. */
function formatIpv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function checkCidr(input: string): CidrCheck {
  const text = input.trim();
  if (text === '') return { ok: false, message: 'Enter an address range such as 203.0.113.0/24 or 2001:db8::/32.' };
  const slash = text.indexOf('/');
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? null : text.slice(slash + 1);
  const v4 = ipv4Bytes(addressText);
  const v6 = v4 ? null : ipv6Bytes(addressText);
  const bytes = v4 ?? v6;
  if (!bytes) return { ok: false, message: `"${text}" is not a valid IPv4 or IPv6 address range.` };
  const family = v4 ? 'ipv4' : 'ipv6';
  const max = family === 'ipv4' ? 32 : 128;
  let prefix = max;
  if (prefixText !== null) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText)) return { ok: false, message: `"${text}" has an invalid prefix length.` };
    prefix = Number(prefixText);
    if (prefix > max) return { ok: false, message: `The prefix of an ${family === 'ipv4' ? 'IPv4' : 'IPv6'} range must be between 0 and ${max}.` };
  }
  const format = (b: number[]) => (family === 'ipv4' ? b.join('.') : formatIpv6(b));
  if (hostBitsSet(bytes, prefix)) {
    const suggestion = `${format(networkOf(bytes, prefix))}/${prefix}`;
    return { ok: false, message: `"${text}" has host bits set; did you mean ${suggestion}?`, suggestion };
  }
  const canonical = `${format(bytes)}/${prefix}`;
  return { ok: true, canonical, family, wildcard: canonical === '0.0.0.0/0' || canonical === '::/0' };
}

import ipaddr from 'ipaddr.js';
import { WEBHOOK_URL_MAX } from './webhook.js';

/**
 * Address ranges a webhook must never reach (SSRF): everything but global unicast. ipaddr.js names
 * them (loopback, private, linkLocal, uniqueLocal, carrierGradeNat, unspecified, reserved, ...);
 * IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry. The cloud metadata address
 * 169.254.169.254 is link-local; fd00:ec2::254 is unique-local.
 */
export function isForbiddenWebhookAddress(address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  const plain = address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
  return plain.range() !== 'unicast';
}

/** Host names that name this machine or its private network whatever DNS says. */
const localNames = /(^|\.)(localhost|localdomain|local|internal|home\.arpa)$/i;

/**
 * Why `url` cannot be a webhook target, or null when it can. Checked when an endpoint is created or
 * edited; the address a name resolves to is checked again at connect time on every delivery (a name
 * may resolve anywhere later), so this catches what can be seen in the URL itself: a malformed URL, a
 * scheme other than http(s), credentials in it, and a literal address (in any form the WHATWG parser
 * accepts: decimal, hex, short) or a local name, unless private targets are allowed.
 */
export function webhookTargetProblem(url: string, options: { allowPrivateTargets: boolean }): string | null {
  if (url.length > WEBHOOK_URL_MAX) return `must be at most ${WEBHOOK_URL_MAX} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must use http or https';
  if (parsed.username || parsed.password) return 'must not hold a user name or password';
  if (parsed.hash) return 'must not have a fragment';
  if (options.allowPrivateTargets) return null;
  // WHATWG URL parsing has already normalised 2130706433, 0x7f.1 and the like to dotted IPv4.
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (ipaddr.isValid(host)) {
    if (isForbiddenWebhookAddress(ipaddr.parse(host))) return 'must not point to a loopback, private, link-local or metadata address';
    return null;
  }
  if (localNames.test(host.replace(/\.$/, '')) || !host.includes('.')) return 'must not point to a local host name';
  return null;
}

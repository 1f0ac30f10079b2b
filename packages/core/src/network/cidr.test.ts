import { describe, expect, it } from 'vitest';
import { IpAllowlist, isWildcardCidr, parseCidr } from './cidr.js';

describe('CIDR parsing (R20)', () => {
  it.each([
    ['010.0.0.0/8', 'leading zero (octal)'],
    ['0x0a.0.0.0/8', 'hex'],
    ['1.2.3/24', 'short form'],
    ['10.0.0.1/8', 'host bits set'],
    ['::/129', 'prefix out of range'],
    ['10.0.0.0/33', 'prefix out of range'],
    ['fe80::1%eth0/128', 'zone id'],
    ['10.0.0.0/08', 'leading zero in prefix'],
    ['10.0.0.0/', 'empty prefix'],
    ['[::1]/128', 'brackets'],
    ['::ffff:010.0.0.1/128', 'octal in an embedded IPv4'],
    ['1.2.3.4.5/32', 'five parts'],
    ['256.0.0.0/8', 'out of range'],
    ['10.0.0.0/-1', 'negative'],
    ['', 'empty'],
  ])('refuses %s (%s)', (input) => {
    expect(() => parseCidr(input)).toThrow();
  });

  it('stores canonical forms', () => {
    expect(parseCidr('10.0.0.0/8').canonical).toBe('10.0.0.0/8');
    expect(parseCidr('2001:DB8:0:0::/32').canonical).toBe('2001:db8::/32');
    expect(parseCidr('192.168.1.7').canonical).toBe('192.168.1.7/32');
    expect(parseCidr('::1').canonical).toBe('::1/128');
    expect(parseCidr('0.0.0.0/0').family).toBe('ipv4');
  });

  it('flags the wildcards', () => {
    expect(isWildcardCidr('0.0.0.0/0')).toBe(true);
    expect(isWildcardCidr('::/0')).toBe(true);
    expect(isWildcardCidr('10.0.0.0/8')).toBe(false);
  });
});

describe('allowlists match each family independently (R21)', () => {
  it('allows any address when empty', () => {
    expect(new IpAllowlist([]).allows('203.0.113.9')).toBe(true);
    expect(new IpAllowlist([]).allows(undefined)).toBe(true);
  });

  it('refuses an IPv6 client on a v4-only key', () => {
    const list = new IpAllowlist(['0.0.0.0/0']);
    expect(list.allows('10.1.2.3')).toBe(true);
    expect(list.allows('2001:db8::1')).toBe(false);
  });

  it('never lets ::/0 match an IPv4 client', () => {
    const list = new IpAllowlist(['::/0']);
    expect(list.allows('2001:db8::1')).toBe(true);
    expect(list.allows('10.1.2.3')).toBe(false);
    expect(list.allows('::ffff:10.1.2.3')).toBe(false);
  });

  it('matches IPv4-mapped client addresses as IPv4', () => {
    const list = new IpAllowlist(['10.0.0.0/8']);
    expect(list.allows('::ffff:10.1.2.3')).toBe(true);
    expect(list.allows('::ffff:11.1.2.3')).toBe(false);
  });

  it('refuses when the client address is unknown or malformed', () => {
    const list = new IpAllowlist(['10.0.0.0/8']);
    expect(list.allows(undefined)).toBe(false);
    expect(list.allows('not-an-ip')).toBe(false);
    expect(list.allows('010.1.2.3')).toBe(false);
  });

  it('matches the edges of a range', () => {
    const list = new IpAllowlist(['192.168.4.0/22', '2001:db8:abcd::/48']);
    expect(list.allows('192.168.4.0')).toBe(true);
    expect(list.allows('192.168.7.255')).toBe(true);
    expect(list.allows('192.168.8.0')).toBe(false);
    expect(list.allows('2001:db8:abcd:ffff::1')).toBe(true);
    expect(list.allows('2001:db8:abce::1')).toBe(false);
  });
});

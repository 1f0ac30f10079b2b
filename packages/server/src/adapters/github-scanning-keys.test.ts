import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyDocumentError, isValidSignature, parseKeyDocument } from './github-scanning-keys.js';

const pemOf = (options: Parameters<typeof generateKeyPairSync>[1], type: 'ec' | 'rsa' | 'ed25519') =>
  (generateKeyPairSync(type as 'ec', options as { namedCurve: string }).publicKey.export({ type: 'spki', format: 'pem' }) as string);

describe('parseKeyDocument', () => {
  const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = p256.publicKey.export({ type: 'spki', format: 'pem' }) as string;

  it('reads every listed P-256 key by its identifier, current or not', () => {
    const other = pemOf({ namedCurve: 'prime256v1' }, 'ec');
    const keys = parseKeyDocument(JSON.stringify({ public_keys: [{ key_identifier: 'a', key: pem, is_current: false }, { key_identifier: 'b', key: other, is_current: true }] }));
    expect([...keys.keys()]).toEqual(['a', 'b']);
    const payload = Buffer.from('[{"token":"kw_x"}]');
    const signature = sign('sha256', payload, { key: p256.privateKey, dsaEncoding: 'der' }).toString('base64');
    expect(isValidSignature(keys.get('a')!, payload, signature)).toBe(true);
    expect(isValidSignature(keys.get('b')!, payload, signature)).toBe(false);
    expect(isValidSignature(keys.get('a')!, Buffer.from('[{"token":"kw_y"}]'), signature)).toBe(false);
    expect(isValidSignature(keys.get('a')!, payload, `${signature.slice(0, -4)}AAAA`)).toBe(false);
  });

  it('refuses a document that is not JSON, lists nothing, or holds anything but P-256 public keys', () => {
    const bad = [
      'not json',
      'null',
      '{}',
      '{"public_keys":{}}',
      '{"public_keys":[]}',
      JSON.stringify({ public_keys: [{ key: pem }] }),
      JSON.stringify({ public_keys: [{ key_identifier: 'a' }] }),
      JSON.stringify({ public_keys: [{ key_identifier: 'a', key: 'not a pem' }] }),
      JSON.stringify({ public_keys: [{ key_identifier: 'a', key: pemOf({ namedCurve: 'secp384r1' }, 'ec') }] }),
      JSON.stringify({ public_keys: [{ key_identifier: 'a', key: pemOf({ modulusLength: 2048 }, 'rsa') }] }),
      JSON.stringify({ public_keys: [{ key_identifier: 'a', key: pemOf({}, 'ed25519') }] }),
    ];
    for (const text of bad) expect(() => parseKeyDocument(text), text.slice(0, 60)).toThrow(KeyDocumentError);
  });
});

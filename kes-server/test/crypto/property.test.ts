import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecryptError, decrypt, encrypt } from '../../src/crypto/key.ts';
import type { KeyVersion } from '../../src/crypto/key.ts';

const keyVersion = fc.record({
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  cipher: fc.constantFrom('AES256' as const, 'ChaCha20' as const),
  createdAt: fc.constant(new Date(0)),
  createdBy: fc.constant(''),
}) as fc.Arbitrary<KeyVersion>;

const bytes = fc.uint8Array({ maxLength: 256 });
const random28 = fc.uint8Array({ minLength: 28, maxLength: 28 });

test('property: decrypt(encrypt(p, ctx), ctx) = p', () => {
  fc.assert(
    fc.property(keyVersion, bytes, bytes, random28, (kv, p, ctx, r) => {
      const c = encrypt(kv, p, ctx, () => r.slice());
      assert.equal(c.length, p.length + 44);
      assert.deepEqual(decrypt(kv, c, ctx), p);
    }),
    { numRuns: 300 },
  );
});

test('property: flipping any single bit of the ciphertext makes decryption fail', () => {
  fc.assert(
    fc.property(keyVersion, bytes, bytes, fc.nat(), fc.integer({ min: 0, max: 7 }), (kv, p, ctx, pos, bit) => {
      const c = encrypt(kv, p, ctx);
      const t = c.slice();
      t[pos % t.length] ^= 1 << bit;
      assert.throws(() => decrypt(kv, t, ctx), DecryptError);
    }),
    { numRuns: 300 },
  );
});

test('property: flipping any single bit of the context makes decryption fail', () => {
  fc.assert(
    fc.property(keyVersion, bytes, fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.nat(), fc.integer({ min: 0, max: 7 }), (kv, p, ctx, pos, bit) => {
      const c = encrypt(kv, p, ctx);
      const other = ctx.slice();
      other[pos % other.length] ^= 1 << bit;
      assert.throws(() => decrypt(kv, c, other), DecryptError);
    }),
    { numRuns: 200 },
  );
});

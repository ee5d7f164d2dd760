/**
 * Optional transit wrapping of stored values (docs/protocol.md#vault-transit): the K/V field then holds a
 * `vault:v1:…` ciphertext of the storage text instead of the storage text itself.
 */
import type { TransitAnswer } from './answers.ts';
import type { VaultRequest, VaultResponse } from './client.ts';
import { VaultError, answerCode, vaultErrorText } from './errors.ts';

/** Prefix of transit ciphertexts made by the first version of a transit key. */
export const transitPrefix = 'vault:v1:';

type Send = (req: Omit<VaultRequest, 'token' | 'namespace'>) => Promise<VaultResponse<TransitAnswer>>;

export class Transit {
  readonly #engine: string;
  readonly #key: string;
  readonly #send: Send;

  constructor(config: { readonly engine: string; readonly key: string }, send: Send) {
    this.#engine = config.engine;
    this.#key = config.key;
    this.#send = send;
  }

  /** Encrypts the storage text; accepts only `vault:v1:` ciphertexts (a rotated key is refused). */
  async wrap(value: Uint8Array): Promise<string> {
    const path = `${this.#engine}/encrypt/${this.#key}`;
    const res = await this.#send({
      method: 'POST',
      path,
      body: { plaintext: Buffer.from(value).toString('base64') },
      idempotent: true,
    });
    const ciphertext = res.body?.data?.ciphertext;
    if (res.status !== 200) throw new VaultError(answerCode(res), `transit encryption with '${path}' failed: ${vaultErrorText(res)}`);
    if (typeof ciphertext !== 'string' || !ciphertext.startsWith(transitPrefix)) {
      throw new VaultError('FAILED', `transit encryption with '${path}' did not return a '${transitPrefix}' ciphertext`);
    }
    return ciphertext;
  }

  /** Decrypts a `vault:v1:` ciphertext back to the storage text. */
  async unwrap(ciphertext: string): Promise<Uint8Array> {
    const path = `${this.#engine}/decrypt/${this.#key}`;
    const res = await this.#send({ method: 'POST', path, body: { ciphertext }, idempotent: true });
    if (res.status !== 200) throw new VaultError(answerCode(res), `transit decryption with '${path}' failed: ${vaultErrorText(res)}`);
    const plaintext = res.body?.data?.plaintext;
    if (typeof plaintext !== 'string') {
      throw new VaultError('FAILED', `transit decryption with '${path}' returned no plaintext`);
    }
    return new Uint8Array(Buffer.from(plaintext, 'base64'));
  }
}

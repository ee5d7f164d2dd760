/** `kes-server identity of <cert-file | kes:v1:api-key>`: prints the identity (docs/protocol.md#identities, #api-keys). */
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseApiKey } from '../auth/api-key.ts';
import { identityOfCertificate } from '../auth/identity.ts';

/** @throws when the argument is neither a readable PEM certificate file nor an API key */
export async function identityOf(arg: string): Promise<string> {
  if (arg.startsWith('kes:v1:')) return parseApiKey(arg).identity;
  const pem = await readFile(arg, 'utf8');
  const block = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  if (block === null) throw new Error(`'${arg}' contains no PEM certificate`);
  return identityOfCertificate(new X509Certificate(block[0]));
}

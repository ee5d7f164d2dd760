/**
 * Resources whose provider computes locally, on the machine running Pulumi (`tls`, `random`):
 * realized at capture time with node:crypto, so every certificate, key and password is real.
 * A certificate request is kept as a token that `LocallySignedCert` resolves into a real
 * certificate for the request's key, subject and SANs.
 */
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomInt } from 'node:crypto';
import { createCertificate } from '../kes-server/src/tls/x509.ts';
import type { ExtKeyUsage } from '../kes-server/src/tls/x509.ts';
import { registerSecret } from '../sandbox/log-sweep.ts';

/** The input fields each local type understands; anything else is refused. */
export const LOCAL_FIELDS: Record<string, readonly string[]> = {
  'tls:index/privateKey:PrivateKey': ['algorithm', 'ecdsaCurve'],
  'tls:index/selfSignedCert:SelfSignedCert': ['privateKeyPem', 'subject', 'validityPeriodHours', 'isCaCertificate', 'allowedUses', 'dnsNames', 'ipAddresses', 'earlyRenewalHours'],
  'tls:index/certRequest:CertRequest': ['privateKeyPem', 'subject', 'dnsNames', 'ipAddresses'],
  'tls:index/locallySignedCert:LocallySignedCert': ['certRequestPem', 'caPrivateKeyPem', 'caCertPem', 'validityPeriodHours', 'isCaCertificate', 'allowedUses', 'earlyRenewalHours'],
  'random:index/randomPassword:RandomPassword': ['length', 'special', 'upper', 'lower', 'numeric', 'minUpper', 'minLower', 'minNumeric', 'minSpecial'],
  'random:index/randomBytes:RandomBytes': ['length'],
};

const requests = new Map<string, { privateKeyPem: string; commonName: string; dnsNames: string[]; ipAddresses: string[] }>();

const uses = (v: unknown): ExtKeyUsage[] => (Array.isArray(v) ? v : []).filter((u): u is ExtKeyUsage => u === 'serverAuth' || u === 'clientAuth');

function password(i: Record<string, any>): string {
  const sets = [
    i.upper !== false ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' : '',
    i.lower !== false ? 'abcdefghijklmnopqrstuvwxyz' : '',
    i.numeric !== false ? '0123456789' : '',
    i.special !== false ? '!@#$%&*()-_=+[]{}<>:?' : '',
  ].join('');
  return Array.from({ length: i.length }, () => sets[randomInt(sets.length)]).join('');
}

/** The outputs a local provider computes for `inputs` (plain values), or undefined for other types. */
export function computeLocal(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> | undefined {
  if (!(type in LOCAL_FIELDS)) return undefined;
  const unknown = Object.keys(inputs).filter((k) => !LOCAL_FIELDS[type].includes(k));
  if (unknown.length > 0) throw new Error(`realize: ${type} ${name}: input field(s) not realized: ${unknown.join(', ')}`);
  const notAfter = new Date(Date.now() + (inputs.validityPeriodHours ?? 24) * 3_600_000);
  switch (type) {
    case 'tls:index/privateKey:PrivateKey': {
      if (inputs.algorithm !== 'ECDSA' || (inputs.ecdsaCurve ?? 'P224') !== 'P256') throw new Error(`realize: ${type} ${name}: only ECDSA P256 keys are realized`);
      const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const privateKeyPem = pair.privateKey.export({ type: 'sec1', format: 'pem' }).toString();
      const privateKeyPemPkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      registerSecret(`${name} private key`, privateKeyPem);
      registerSecret(`${name} private key`, privateKeyPemPkcs8);
      return {
        privateKeyPem,
        privateKeyPemPkcs8,
        publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    }
    case 'tls:index/selfSignedCert:SelfSignedCert': {
      const key = createPrivateKey(inputs.privateKeyPem);
      const certPem = createCertificate({
        commonName: inputs.subject?.commonName ?? name,
        publicKey: createPublicKey(key),
        signingKey: key,
        notAfter,
        isCA: inputs.isCaCertificate === true,
        dnsNames: inputs.dnsNames ?? [],
        ipAddresses: inputs.ipAddresses ?? [],
        extKeyUsage: uses(inputs.allowedUses),
      });
      return { certPem, validityEndTime: notAfter.toISOString() };
    }
    case 'tls:index/certRequest:CertRequest': {
      const token = `-----BEGIN CERTIFICATE REQUEST-----\nrequest ${name} ${randomBytes(8).toString('hex')}\n-----END CERTIFICATE REQUEST-----\n`;
      requests.set(token, { privateKeyPem: inputs.privateKeyPem, commonName: inputs.subject?.commonName ?? name, dnsNames: inputs.dnsNames ?? [], ipAddresses: inputs.ipAddresses ?? [] });
      return { certRequestPem: token };
    }
    case 'tls:index/locallySignedCert:LocallySignedCert': {
      const req = requests.get(inputs.certRequestPem);
      if (!req) throw new Error(`realize: ${type} ${name}: unknown certificate request`);
      const certPem = createCertificate({
        commonName: req.commonName,
        publicKey: createPublicKey(req.privateKeyPem),
        signingKey: createPrivateKey(inputs.caPrivateKeyPem),
        issuer: new X509Certificate(inputs.caCertPem),
        notAfter,
        isCA: inputs.isCaCertificate === true,
        dnsNames: req.dnsNames,
        ipAddresses: req.ipAddresses,
        extKeyUsage: uses(inputs.allowedUses),
      });
      return { certPem, validityEndTime: notAfter.toISOString() };
    }
    case 'random:index/randomPassword:RandomPassword': {
      const result = password(inputs);
      registerSecret(`${name} password`, result);
      return { result };
    }
    case 'random:index/randomBytes:RandomBytes': {
      const b = randomBytes(inputs.length);
      registerSecret(`${name} bytes`, b);
      return { base64: b.toString('base64'), hex: b.toString('hex') };
    }
  }
  return undefined;
}

/** Strict standard base64 (RFC 4648 §4, padded), as Go's `base64.StdEncoding` accepts it. */

const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes padded standard base64. Like Go, CR and LF are ignored. Returns `undefined` (never
 * throws) for anything else: unpadded, URL-safe or otherwise malformed input.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\r\n]/g, '');
  if (!STD_BASE64.test(clean)) return undefined;
  return new Uint8Array(Buffer.from(clean, 'base64'));
}

/** Encodes bytes as padded standard base64. */
export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

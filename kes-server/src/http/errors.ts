/**
 * Every error the API puts on the wire (docs/protocol.md#errors). Clients match errors by the pair
 * (status, message), so these texts are protocol constants and must never change.
 */
import { KesError, errorMessage } from '../errors.ts';

/** An error that knows its HTTP status and exact wire message. */
export class ApiError extends KesError {
  readonly status: number;

  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

function constant(status: number, message: string): ApiError {
  return Object.freeze(new ApiError(status, message));
}

// Authentication and authorization (docs/protocol.md#errors, #authorization).
export const ErrClientCertRequired = constant(400, 'tls: client certificate is required');
export const ErrManyClientCerts = constant(400, 'tls: received more than one client certificate');
export const ErrNotAllowed = constant(403, 'not authorized: insufficient permissions');

// Request parsing.
export const ErrInvalidBody = constant(400, 'invalid request body');
export const ErrInvalidImportBody = constant(400, 'invalid import key request body');
export const ErrInvalidPath = constant(400, 'invalid request path');
export const ErrInvalidKeyName = constant(400, 'invalid key name: must be 1-80 characters of [0-9A-Za-z_-], not starting or ending with -');
export const ErrInvalidPolicyName = constant(400, 'invalid policy name: must be 1-80 characters of [0-9A-Za-z_-], not starting or ending with -');
export const ErrInvalidIdentity = constant(400, 'invalid identity: must be 1-80 characters of [0-9A-Za-z_-], not starting or ending with -');
export const ErrInvalidPattern = constant(400, 'invalid pattern: must be at most 80 characters of [0-9A-Za-z_-] with an optional trailing *');
export const ErrTooManyCiphertexts = constant(400, 'too many ciphertexts');

// Keys.
export const ErrKeyExists = constant(400, 'key already exists');
export const ErrKeyNotFound = constant(404, 'key does not exist');
export const ErrDecrypt = constant(400, 'decryption failed: ciphertext is not authentic');
export const ErrNoHMAC = constant(409, 'key does not support HMAC');
export const ErrImportKeySize = (cipher: string): ApiError => new ApiError(406, `invalid key size for '${cipher}'`);
export const ErrImportCipher = (cipher: string): ApiError => new ApiError(406, `algorithm '${cipher}' is not supported`);

// Policies and identities.
export const ErrPolicyNotFound = constant(404, 'policy does not exist');
export const ErrIdentityNotFound = constant(404, 'identity does not exist');

// Key store and crypto failures: fixed, vague texts; the cause goes to the error log only.
export const ErrCreateKey = constant(502, 'failed to create key');
export const ErrReadKey = constant(502, 'failed to read key');
export const ErrDeleteKey = constant(502, 'failed to delete key');
export const ErrListKeys = constant(502, 'failed to list keys');
export const ErrGenerateKey = constant(500, 'failed to generate encryption key');
export const ErrEncrypt = constant(500, 'failed to encrypt plaintext');
export const ErrDecryptFailed = constant(500, 'failed to decrypt ciphertext');
export const ErrCreateKeyInternal = constant(500, 'failed to create key');
export const ErrVersion = constant(500, 'failed to read server version');
export const ErrInternal = constant(500, 'internal server error');

// Readiness (docs/protocol.md#server-routes).
export const ErrKeyStoreUnreachable = constant(504, 'key store is not reachable');
export const ErrKeyStoreUnavailable = constant(502, 'key store is unavailable');

/** 405 answer; the wording is not significant to clients (docs/protocol.md#routing), but is upstream's. */
export function errMethodNotAllowed(got: string, want: string): ApiError {
  return new ApiError(405, `received method '${got}' expected '${want}'`);
}

/**
 * The byte-exact upstream error body: `{"message":"…"` + `\n` + `}` (docs/protocol.md#errors). The newline inside
 * the object is an artefact of how Go assembles it; clients only need valid JSON.
 */
export function errorBody(message: string): Buffer {
  return Buffer.from(`{"message":${JSON.stringify(message)}\n}`, 'utf8');
}

/**
 * An unexpected failure: the dispatcher logs `cause` (with the request id) and answers with the
 * fixed `answer`, so no internal detail ever reaches the client.
 */
export class InternalFailure extends KesError {
  readonly answer: ApiError;

  constructor(answer: ApiError, cause: unknown) {
    super(`${answer.message}: ${errorMessage(cause)}`, { cause });
    this.answer = answer;
  }
}

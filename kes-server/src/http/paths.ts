/**
 * Route paths of the KES API, spelled exactly as upstream registers them (docs/protocol.md#routing, #routes).
 * Prefix routes end in `/`; the rest of the request path after the prefix is the resource.
 */
export const PathVersion = '/version';
export const PathStatus = '/v1/status';
export const PathReady = '/v1/ready';
export const PathMetrics = '/v1/metrics';
export const PathListAPIs = '/v1/api';

export const PathKeyCreate = '/v1/key/create/';
export const PathKeyImport = '/v1/key/import/';
export const PathKeyDescribe = '/v1/key/describe/';
export const PathKeyList = '/v1/key/list/';
export const PathKeyDelete = '/v1/key/delete/';
export const PathKeyGenerate = '/v1/key/generate/';
export const PathKeyEncrypt = '/v1/key/encrypt/';
export const PathKeyDecrypt = '/v1/key/decrypt/';
export const PathKeyHMAC = '/v1/key/hmac/';
/** Legacy (≤ 2023-08) bulk decryption, kept for old clients (docs/protocol.md#older-servers). */
export const PathKeyBulkDecrypt = '/v1/key/bulk/decrypt/';

export const PathPolicyDescribe = '/v1/policy/describe/';
export const PathPolicyRead = '/v1/policy/read/';
export const PathPolicyList = '/v1/policy/list/';

export const PathIdentityDescribe = '/v1/identity/describe/';
export const PathIdentityList = '/v1/identity/list/';
export const PathIdentitySelfDescribe = '/v1/identity/self/describe';

export const PathLogError = '/v1/log/error';
export const PathLogAudit = '/v1/log/audit';

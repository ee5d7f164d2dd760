/** Public entry points of the kes-server package. */
export { KesServer, buildInfo, createStartupKeys, splitHostPort } from './server.ts';
export type { KesServerOptions, ServerSettings } from './server.ts';
export { ApiError } from './http/errors.ts';
export { defaultRoutes, applyApiOverrides, MaxBody } from './http/routes.ts';
export type { ApiOverride } from './http/routes.ts';
export type { Route, AuthMode } from './http/route.ts';
export { loadTlsMaterial } from './http/tls-material.ts';
export type { TlsMaterial } from './http/tls-material.ts';
export { Policy, PolicySet, matchPattern } from './auth/policy.ts';
export { ErrorLog } from './log/error-log.ts';
export { AuditLog } from './log/audit-log.ts';
export { Metrics } from './metrics/metrics.ts';
export { settingsFromConfig } from './cli/settings.ts';
export { devSettings } from './cli/dev.ts';

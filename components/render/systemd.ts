/**
 * systemd units for KES and MinIO on Linux hosts (docs/protocol.md#deploying-minio): dedicated user and group,
 * `EnvironmentFile`, `Restart=always`, a raised file-descriptor limit and sandboxing that leaves
 * only the data/key paths writable.
 */
import { RenderError, requireNonEmpty } from './validate.ts';

/** Common unit settings. */
interface UnitBase {
  readonly user: string;
  readonly group: string;
  /** `EnvironmentFile=` path (secrets live there, mode 0600/0640). */
  readonly environmentFile: string;
  /** Paths the service may write; everything else is read-only (`ProtectSystem=strict`). */
  readonly readWritePaths: readonly string[];
}

/** The KES server unit. */
export interface KesUnitArgs extends UnitBase {
  /** Node.js binary, e.g. `/usr/bin/node`. */
  readonly nodeBinary: string;
  /** The server entry point, e.g. `/opt/kes-server/src/cli/main.ts`. */
  readonly serverEntry: string;
  readonly configFile: string;
}

/** The MinIO server unit. */
export interface MinioUnitArgs extends UnitBase {
  readonly minioBinary: string;
}

const ABS_PATH = /^\/[^\s"'\\$%;]*$/;
const UNIX_NAME = /^[a-z_][a-z0-9_-]{0,30}$/;

function checkBase(a: UnitBase): void {
  if (!UNIX_NAME.test(a.user)) throw new RenderError('INVALID_ARGUMENT', 'user', 'not a valid user name');
  if (!UNIX_NAME.test(a.group)) throw new RenderError('INVALID_ARGUMENT', 'group', 'not a valid group name');
  checkPath('environmentFile', a.environmentFile);
  a.readWritePaths.forEach((p, i) => checkPath(`readWritePaths[${i}]`, p));
}

function checkPath(field: string, p: string): void {
  requireNonEmpty(field, p);
  if (!ABS_PATH.test(p)) throw new RenderError('INVALID_ARGUMENT', field, 'must be an absolute path without spaces, quotes or specifiers');
}

type Section = Array<[string, string]>;

function render(sections: Array<[string, Section]>): string {
  return sections.map(([name, lines]) => [`[${name}]`, ...lines.map(([k, v]) => `${k}=${v}`)].join('\n')).join('\n\n') + '\n';
}

/** Sandboxing shared by both services; `families` are the socket address families the service may use. */
function hardening(rw: readonly string[], families = 'AF_INET AF_INET6 AF_UNIX'): Section {
  const lines: Section = [
    ['NoNewPrivileges', 'yes'],
    ['PrivateTmp', 'yes'],
    ['PrivateDevices', 'yes'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['ProtectKernelTunables', 'yes'],
    ['ProtectKernelModules', 'yes'],
    ['ProtectControlGroups', 'yes'],
    ['ProtectProc', 'invisible'],
    ['RestrictSUIDSGID', 'yes'],
    ['RestrictNamespaces', 'yes'],
    ['LockPersonality', 'yes'],
    ['RestrictAddressFamilies', families],
    ['CapabilityBoundingSet', ''],
  ];
  if (rw.length > 0) lines.push(['ReadWritePaths', [...rw].sort().join(' ')]);
  return lines;
}

const UNIT_AFTER: Section = [
  ['Wants', 'network-online.target'],
  ['After', 'network-online.target'],
];

/** Renders `kes.service`. Throws `RenderError` naming a bad argument. */
export function renderKesUnit(a: KesUnitArgs): string {
  checkBase(a);
  checkPath('nodeBinary', a.nodeBinary);
  checkPath('serverEntry', a.serverEntry);
  checkPath('configFile', a.configFile);
  return render([
    ['Unit', [['Description', 'KES key management server (TypeScript)'], ...UNIT_AFTER, ['AssertFileIsExecutable', a.nodeBinary]]],
    [
      'Service',
      [
        ['Type', 'simple'],
        ['User', a.user],
        ['Group', a.group],
        ['EnvironmentFile', a.environmentFile],
        ['ExecStart', `${a.nodeBinary} ${a.serverEntry} server --config ${a.configFile}`],
        // kes reloads its config on SIGHUP (docs/protocol.md#config-reload).
        ['ExecReload', '/bin/kill -HUP $MAINPID'],
        ['Restart', 'always'],
        ['RestartSec', '5'],
        ['LimitNOFILE', '65536'],
        ...hardening(a.readWritePaths),
      ],
    ],
    ['Install', [['WantedBy', 'multi-user.target']]],
  ]);
}

/** Renders `minio.service` (`Type=notify`, supported since MinIO RELEASE.2023-05-04). */
export function renderMinioUnit(a: MinioUnitArgs): string {
  checkBase(a);
  checkPath('minioBinary', a.minioBinary);
  if (a.readWritePaths.length === 0) throw new RenderError('MISSING_ARGUMENT', 'readWritePaths', 'MinIO needs its drive paths writable');
  return render([
    ['Unit', [['Description', 'MinIO object storage'], ...UNIT_AFTER, ['AssertFileIsExecutable', a.minioBinary]]],
    [
      'Service',
      [
        ['Type', 'notify'],
        ['User', a.user],
        ['Group', a.group],
        ['WorkingDirectory', '/'],
        ['EnvironmentFile', a.environmentFile],
        // `$$` hands a literal `$` to the shell, which reads the variable from its environment.
        ['ExecStartPre', '/bin/sh -c "test -n \\"$$MINIO_VOLUMES\\" || { echo MINIO_VOLUMES is not set >&2; exit 1; }"'],
        ['ExecStart', `${a.minioBinary} server $MINIO_OPTS $MINIO_VOLUMES`],
        ['Restart', 'always'],
        ['LimitNOFILE', '1048576'],
        ['TasksMax', 'infinity'],
        ['TimeoutStopSec', 'infinity'],
        ['SendSIGKILL', 'no'],
        // MinIO lists the host's addresses over netlink at start-up ("Unable to get IP addresses of this host" without it).
        ...hardening(a.readWritePaths, 'AF_INET AF_INET6 AF_UNIX AF_NETLINK'),
      ],
    ],
    ['Install', [['WantedBy', 'multi-user.target']]],
  ]);
}

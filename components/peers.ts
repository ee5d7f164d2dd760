/**
 * The pinned peers (`peers.json`, also read by `scripts/install-peers.sh`): the versions the tests
 * run and the images deployments pull by default, so each version is written once.
 */
import peers from './peers.json' with { type: 'json' };

/** The OpenBao image of the ephemeral dev server: the OpenBao version every test runs. */
export const OPENBAO_IMAGE = `${peers.openbao.image}:${peers.openbao.version}`;

/**
 * The default MinIO image: the last official community release, still published on quay.io
 * (docs/protocol.md#deploying-minio). The tests build MinIO from the pinned module instead,
 * a later commit of the same repository for which no image was ever published.
 */
export const DEFAULT_MINIO_IMAGE = peers.minio.image;

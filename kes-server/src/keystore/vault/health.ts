/**
 * Vault health (docs/protocol.md#vault-health): the status probe behind `KeyStore.status` and the background seal
 * monitor that makes key operations fail fast while Vault is sealed.
 */
import { errorMessage } from '../../errors.ts';
import { KeyStoreError, isKeyStoreError } from '../errors.ts';
import type { HealthAnswer } from './answers.ts';
import type { KeyStoreStatus } from '../keystore.ts';
import { systemClock, type Clock } from '../../clock.ts';
import type { VaultClient } from './client.ts';
import { VaultError, vaultErrorText } from './errors.ts';

/** Status codes forced to 299 so that every non-active state still answers with a body. */
const healthQuery: Readonly<Record<string, string>> = {
  uninitcode: '299',
  sealedcode: '299',
  standbycode: '299',
  drsecondarycode: '299',
  performancestandbycode: '299',
  removedcode: '299',
  haunhealthycode: '299',
};

interface Health {
  readonly initialized: boolean;
  readonly sealed: boolean;
}

/**
 * `GET /v1/sys/health`, sent without token and without namespace header (a root-only path).
 * Rejects with a KeyStoreError: `UNREACHABLE` on network errors, timeouts and cancellation,
 * `UNAVAILABLE` on any other failure.
 */
export async function readHealth(client: VaultClient, signal?: AbortSignal): Promise<Health> {
  let res;
  try {
    res = await client.send<HealthAnswer>({
      method: 'GET',
      path: 'sys/health',
      query: healthQuery,
      idempotent: true,
      retries: 0,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    const unreachable = isKeyStoreError(err, 'UNREACHABLE');
    throw new KeyStoreError(unreachable ? 'UNREACHABLE' : 'UNAVAILABLE', errorMessage(err), { cause: err });
  }
  if (res.status < 200 || res.status > 299 || typeof res.body !== 'object' || res.body === null) {
    throw new VaultError('UNAVAILABLE', `health check failed: ${vaultErrorText(res)}`);
  }
  return { initialized: res.body.initialized === true, sealed: res.body.sealed === true };
}

/** The keystore status of docs/protocol.md#vault-health: not initialised or sealed → UNREACHABLE; latency of the probe. */
export async function probeStatus(client: VaultClient, clock: Clock = systemClock, signal?: AbortSignal): Promise<KeyStoreStatus> {
  const start = clock.now();
  const health = await readHealth(client, signal);
  if (!health.initialized) throw new VaultError('UNREACHABLE', `${client.endpoint.origin} is not initialized`);
  if (health.sealed) throw new VaultError('UNREACHABLE', `${client.endpoint.origin} is sealed`);
  return { latencyMs: Math.max(0, clock.now() - start) };
}

/**
 * Polls health right away and then every `intervalMs`, remembering whether Vault is sealed.
 * A failed probe leaves the flag unchanged (an unreachable Vault is not known to be sealed).
 */
export class SealMonitor {
  #sealed = false;
  readonly #client: VaultClient;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(client: VaultClient, intervalMs: number, clock: Clock = systemClock) {
    this.#client = client;
    this.#intervalMs = intervalMs;
    this.#clock = clock;
  }

  get sealed(): boolean {
    return this.#sealed;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        this.#sealed = (await readHealth(this.#client, signal)).sealed;
      } catch {
        // keep the last known state
      }
      if (this.#intervalMs <= 0) return;
      await this.#clock.sleep(this.#intervalMs, signal);
    }
  }
}

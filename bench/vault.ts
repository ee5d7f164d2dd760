/**
 * The Vault key store of `--keystore vault`: one OpenBao dev server, provisioned for each KES
 * server as the stack provisions Vault (its own K/V v2 prefix, least-privilege policy and AppRole
 * role), reached by each KES server through its own counting proxy, so that every request a
 * server's key store sends to OpenBao during a measured loop is counted.
 */
import { KES_VAULT_ROLE_ID_ENV, KES_VAULT_SECRET_ID_ENV, type KesVaultKeystoreArgs } from '../components/render/kes-config.ts';
import { type CountingProxy, startCountingProxy } from '../sandbox/counting-proxy.ts';
import { registerSecret } from '../sandbox/log-sweep.ts';
import { type OpenBao, startOpenBao } from '../sandbox/openbao.ts';
import { provisionKes } from '../sandbox/openbao-provision.ts';

const ENGINE = 'kv';

interface Provisioned {
  readonly keystore: KesVaultKeystoreArgs;
  readonly env: Readonly<Record<string, string>>;
  readonly proxy: CountingProxy;
}

export class VaultKeystores {
  readonly #bao: OpenBao;
  readonly #servers = new Map<string, Provisioned>();

  private constructor(bao: OpenBao) {
    this.#bao = bao;
  }

  /** Starts OpenBao and provisions one key-store path, role and proxy per server name. */
  static async start(names: readonly string[]): Promise<VaultKeystores> {
    const stores = new VaultKeystores(await startOpenBao());
    try {
      for (const [i, name] of names.entries()) {
        const prefix = `kes-${name}`;
        const p = await provisionKes(stores.#bao, { layout: { engine: ENGINE, version: 'v2', prefix }, name: prefix, mountExists: i > 0 });
        registerSecret(`bench ${name} AppRole role id`, p.roleId);
        registerSecret(`bench ${name} AppRole secret id`, p.secretId);
        const proxy = await startCountingProxy(stores.#bao.address);
        stores.#servers.set(name, {
          keystore: { kind: 'vault', endpoint: proxy.address, engine: ENGINE, version: 'v2', prefix },
          env: { [KES_VAULT_ROLE_ID_ENV]: p.roleId, [KES_VAULT_SECRET_ID_ENV]: p.secretId },
          proxy,
        });
      }
    } catch (err) {
      await stores.stop();
      throw err;
    }
    return stores;
  }

  #of(name: string): Provisioned {
    const p = this.#servers.get(name);
    if (p === undefined) throw new Error(`no Vault key store provisioned for '${name}'`);
    return p;
  }

  /** The config file's key store of one server (AppRole credentials as environment references). */
  keystore(name: string): KesVaultKeystoreArgs {
    return this.#of(name).keystore;
  }

  /** The environment that gives one server its AppRole credentials. */
  env(name: string): Readonly<Record<string, string>> {
    return this.#of(name).env;
  }

  /** Requests one server's key store has sent to OpenBao so far (`METHOD /path`). */
  requests(name: string): readonly string[] {
    return this.#of(name).proxy.seen;
  }

  async stop(): Promise<void> {
    for (const p of this.#servers.values()) await p.proxy.close();
    await this.#bao.stop();
  }
}

/** Requests among `seen` that read or write the key `key` (any K/V v2 path of it). */
export function keyRequests(seen: readonly string[], key: string): string[] {
  return seen.filter((s) => s.split('?')[0].endsWith(`/${key}`));
}

/**
 * Open the remote side for a command: the profile's server and token, and
 * the controller or admin API over it. Loaded only when a command actually
 * goes to a remote server.
 */
import type { Config } from '../core/config/store.js';
import { ApiClient } from './http.js';
import { loadProfile, type ResolvedRemote } from './profiles.js';
import { RemoteController } from './controller.js';
import { RemoteAdmin } from './admin.js';

export { RemoteController, RemoteAdmin, ApiClient };

export async function remoteClient(config: Config, remote: ResolvedRemote, env: NodeJS.ProcessEnv): Promise<ApiClient> {
  return new ApiClient(await loadProfile(config, remote, env));
}

import { ecnu } from './ecnu/index.js';
import { tongji } from './tongji/index.js';
import type { Provider, ProviderId } from '../core/provider.js';

export const providers = { ecnu, tongji } satisfies Record<ProviderId, Provider>;

export function providerOf(id: ProviderId): Provider {
  return providers[id];
}

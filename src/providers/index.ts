import type { PeopleDirectory } from '../core/people.js';
import type { Provider, ProviderId } from '../core/provider.js';
import { ecnu } from './ecnu/index.js';
import { ecnuPeople } from './ecnu/people.js';
import { tongji } from './tongji/index.js';
import { tongjiPeople } from './tongji/people.js';

export const providers = { ecnu, tongji } satisfies Record<ProviderId, Provider>;

export function providerOf(id: ProviderId): Provider {
  return providers[id];
}

/** How each platform looks people up (lookup, photo, api). */
export const directories = { ecnu: ecnuPeople, tongji: tongjiPeople } satisfies Record<ProviderId, PeopleDirectory>;

export function directoryOf(id: ProviderId): PeopleDirectory {
  return directories[id];
}

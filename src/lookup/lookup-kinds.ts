import { UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import type { ProviderId } from '../providers/types.js';

/**
 * What one `idsync lookup --kind` asks of a platform: data, not code (like the sources table).
 * ECNU kinds are its lookup endpoints (seeds/001); Tongji has none, so its kinds are the sync
 * endpoints filtered by `userId` (seeds/002–004).
 */
export interface LookupKind {
  provider: ProviderId;
  name: string;
  path: string;
  /** The query parameter that carries the id (multisearch spells it `userid`, seeds/001). */
  idParam: string;
  /** Sent with every request: Tongji statusCode=-1 finds invalid (departed) people too. */
  fixedParams: Readonly<Record<string, string>>;
  /** Ids per request: postdoc_info takes up to 500 comma-separated (seeds/004). */
  batchSize: number;
  /** The id may be omitted with a signed-in person's token, meaning "me" (seeds/001). */
  allowsMe: boolean;
  description: string;
}

const ecnu = (name: string, path: string, description: string, extra: Partial<LookupKind> = {}): LookupKind => ({
  provider: 'ecnu',
  name,
  path,
  idParam: 'userId',
  fixedParams: {},
  batchSize: 1,
  allowsMe: true,
  description,
  ...extra,
});

// statusCode: 0 valid (the platform's default), 1 invalid, -1 all (seeds/002, 003); the
// postdoc endpoint documents no statusCode, so none is sent there.
const tongji = (name: string, path: string, description: string, extra: Partial<LookupKind> = {}): LookupKind => ({
  provider: 'tongji',
  name,
  path,
  idParam: 'userId',
  fixedParams: { statusCode: '-1' },
  batchSize: 1,
  allowsMe: false,
  description,
  ...extra,
});

export const lookupKinds = {
  ecnu: [
    ecnu('info', '/api/v1/user/info', 'basic information (people in school only)'),
    ecnu('staff', '/api/v1/user/profile/staff', 'staff profile'),
    ecnu('student', '/api/v1/user/profile/student', 'student profile (undergraduate and graduate)'),
    ecnu('undergrad', '/api/v1/user/profile/bks', 'undergraduate profile'),
    ecnu('grad', '/api/v1/user/profile/yjs', 'graduate profile'),
    ecnu('idcard', '/api/v1/user/sensitive/zj', 'ID-card type and number (sensitive: consent required)'),
    // multisearch supports client_credentials and password only, and requires userid (seeds/001).
    ecnu('multi', '/api/v1/user/multisearch', 'every identity of one person', { idParam: 'userid', allowsMe: false }),
  ],
  tongji: [
    tongji('student', '/v2/dc/user/student_infos', 'student record (valid and invalid)'),
    tongji('staff', '/v2/dc/user/teacher_infos', 'staff record (valid and invalid)'),
    tongji('postdoc', '/v2/dc/user/postdoc_info', 'postdoc record', { fixedParams: {}, batchSize: 500 }),
  ],
} as const satisfies Record<ProviderId, readonly LookupKind[]>;

/** `--by-idcard`: find people by ID-card number (seeds/001 idsearch, param zjhm). */
export const idSearchKind: LookupKind = ecnu('idsearch', '/api/v1/user/idsearch', 'people holding an ID-card number', {
  idParam: 'zjhm',
  allowsMe: false,
});

export const defaultKind: Record<ProviderId, string> = { ecnu: 'info', tongji: 'student' };

export function findLookupKind(provider: ProviderId, name: string | undefined): LookupKind {
  const kinds: readonly LookupKind[] = lookupKinds[provider];
  const wanted = name ?? defaultKind[provider];
  const kind = kinds.find((k) => k.name === wanted);
  if (!kind) {
    const names = kinds.map((k) => k.name);
    throw new UsageError(`unknown --kind '${wanted}' for ${provider}${didYouMean(wanted, names)}; expected one of ${names.join(', ')}`);
  }
  return kind;
}

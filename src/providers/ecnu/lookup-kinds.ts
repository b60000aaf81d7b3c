import type { LookupKind } from '../../core/people.js';

// ECNU's lookup endpoints (seeds/001): the id may be left out with a person's token, meaning "me".
const kind = (name: string, path: string, description: string, extra: Partial<LookupKind> = {}): LookupKind => ({
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

export const ecnuLookupKinds: readonly LookupKind[] = [
  kind('info', '/api/v1/user/info', 'basic information (people in school only)'),
  kind('staff', '/api/v1/user/profile/staff', 'staff profile'),
  kind('student', '/api/v1/user/profile/student', 'student profile (undergraduate and graduate)'),
  kind('undergrad', '/api/v1/user/profile/bks', 'undergraduate profile'),
  kind('grad', '/api/v1/user/profile/yjs', 'graduate profile'),
  kind('idcard', '/api/v1/user/sensitive/zj', 'ID-card type and number (sensitive: consent required)'),
  // multisearch supports client_credentials and password only, and requires userid (seeds/001).
  kind('multi', '/api/v1/user/multisearch', 'every identity of one person', { idParam: 'userid', allowsMe: false }),
];

/** `--by-idcard`: find people by ID-card number (seeds/001 idsearch, param zjhm). */
export const ecnuIdSearch: LookupKind = kind('idsearch', '/api/v1/user/idsearch', 'people holding an ID-card number', {
  idParam: 'zjhm',
  allowsMe: false,
});

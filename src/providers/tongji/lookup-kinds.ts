import type { LookupKind } from '../../core/people.js';

// Tongji has no lookup endpoints: its kinds are the sync endpoints filtered by userId
// (seeds/002–004). statusCode: 0 valid (the platform's default), 1 invalid, -1 all (seeds/002,
// 003); the postdoc endpoint documents none, and gets -1 too, as its source does (sources.ts).
const kind = (name: string, path: string, description: string, extra: Partial<LookupKind> = {}): LookupKind => ({
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

export const tongjiLookupKinds: readonly LookupKind[] = [
  kind('student', '/v2/dc/user/student_infos', 'student record (valid and invalid)'),
  kind('staff', '/v2/dc/user/teacher_infos', 'staff record (valid and invalid)'),
  kind('postdoc', '/v2/dc/user/postdoc_info', 'postdoc record', { batchSize: 500 }),
];

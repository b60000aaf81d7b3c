import type { SourceDef } from '../../core/provider.js';

// Endpoints and keys from the ECNU sync document (seeds/000). The staff and postdoc tables
// name the key `userid` while their examples send `userId`: accept either.
const userKey = ['userId', 'userid'] as const;
// Besides ts, pageSize, pageNum and full (all set by idsync), the documents list only `type`
// (studentinfo); no endpoint documents a filter.

export const ecnuSources = [
  {
    name: 'ecnu-users',
    provider: 'ecnu',
    path: '/api/v1/sync/userinfo',
    keyFields: userKey,
    paging: 'page-number',
    requiredParams: [],
    documentedParams: [],
    description: 'all people (students, staff, others) with status',
  },
  {
    name: 'ecnu-staff',
    provider: 'ecnu',
    path: '/api/v1/sync/userinfo/rsuserinfo',
    keyFields: userKey,
    paging: 'page-number',
    requiredParams: [],
    documentedParams: [],
    description: 'staff, temporary staff included',
  },
  {
    name: 'ecnu-postdocs',
    provider: 'ecnu',
    path: '/api/v1/sync/userinfo/bsh',
    keyFields: userKey,
    paging: 'page-number',
    requiredParams: [],
    documentedParams: [],
    description: 'postdoctoral researchers',
  },
  {
    name: 'ecnu-students',
    provider: 'ecnu',
    path: '/api/v1/sync/userinfo/studentinfo',
    keyFields: userKey,
    paging: 'page-number',
    requiredParams: ['type'],
    documentedParams: ['type'],
    description: 'students of one type: --param type=本科生 or type=研究生',
  },
  {
    name: 'ecnu-undergrads',
    provider: 'ecnu',
    path: '/api/v1/sync/userinfo/studentinfo_bk',
    keyFields: ['xh'],
    paging: 'page-number',
    requiredParams: [],
    documentedParams: [],
    description: 'undergraduates (key xh)',
  },
] as const satisfies readonly SourceDef[];

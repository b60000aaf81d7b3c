import type { SourceDef } from '../../core/provider.js';

// Endpoints from seeds/002–004. statusCode defaults to 0 (valid people only) on the platform,
// so people who become invalid would silently vanish; -1 asks for everyone (API.md). The
// postdoc document lists no statusCode, but were its siblings' default applied there,
// departed postdocs would vanish the same way: -1 is harmless if ignored, essential if not.
// documentedParams: each document's request table, less the cursor and time idsync sets.
export const tongjiSources = [
  {
    name: 'tongji-students',
    provider: 'tongji',
    path: '/v2/dc/user/student_infos',
    keyFields: ['userId'],
    paging: 'cursor',
    requiredParams: [],
    documentedParams: [
      'userId',
      'sinceTime',
      'statusCode',
      'deptCode',
      'secondDeptCode',
      'leaveSchoolCode',
      'isMembershipCode',
      'registrationStatusCode',
      'userTypeCode',
      'trainingCategoryCode',
      'currentGrade',
    ],
    defaultParams: { statusCode: '-1' },
    description: 'students (filters: deptCode, userTypeCode, currentGrade, ...)',
  },
  {
    name: 'tongji-staff',
    provider: 'tongji',
    path: '/v2/dc/user/teacher_infos',
    keyFields: ['userId'],
    paging: 'cursor',
    requiredParams: [],
    documentedParams: ['userId', 'statusCode', 'deptCode', 'currentStatusCode'],
    defaultParams: { statusCode: '-1' },
    description: 'staff (filters: deptCode, currentStatusCode)',
  },
  {
    name: 'tongji-postdocs',
    provider: 'tongji',
    path: '/v2/dc/user/postdoc_info',
    keyFields: ['userId'],
    paging: 'cursor',
    requiredParams: [],
    documentedParams: ['userId'],
    defaultParams: { statusCode: '-1' },
    description: 'postdoctoral researchers',
  },
] as const satisfies readonly SourceDef[];

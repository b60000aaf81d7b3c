import { tongjiDepartments, tongjiTeaching, type Department } from './departments.js';
import { sexName } from './people.js';
import type { Random } from './random.js';
import { pickOther, type DatasetSpec, type Row, type RowContext } from './rows.js';

/**
 * Tongji datasets: fields and their order follow the examples in seeds/002–004, quirks included
 * (blank codes are a single space with a null name, currentGrade is a number,
 * expGraduationDate '0001-01-01 00:00:00').
 */

const DC = '/v2/dc/user';
const BLANK = ' ';

type Pair = readonly [code: string, name: string];

const studentTypes = [
  [60, ['2', '本科生'] as Pair],
  [30, ['3', '硕士研究生'] as Pair],
  [10, ['4', '博士研究生'] as Pair],
] as const;
const levels: Record<string, Pair> = { '2': ['1', '本科'], '3': ['2', '硕士'], '4': ['3', '博士'] };
const political: readonly Pair[] = [
  ['13', '群众'],
  ['03', '共青团员'],
  ['01', '中共党员'],
];
const campuses: readonly Pair[] = [
  ['1', '四平路校区'],
  ['2', '嘉定校区'],
  ['3', '沪西校区'],
];
const colleges: readonly Pair[] = [
  ['51', '知行'],
  ['52', '博雅'],
  ['53', '致远'],
  ['54', '济美'],
];

function placeStudent(row: Row, rng: Random, dept: Department): void {
  const major = rng.pick(dept.majors);
  Object.assign(row, { deptCode: dept.id, deptName: dept.name, secondDeptCode: major.code, secondDeptName: major.name });
}

const students: DatasetSpec = {
  id: 'tongji-students',
  provider: 'tongji',
  keyField: 'userId',
  path: `${DC}/student_infos`,
  isValid: (row) => row['statusCode'] === '0',
  create(ctx: RowContext) {
    const { rng } = ctx;
    const [typeCode, typeName] = rng.weighted(studentTypes);
    const undergrad = typeCode === '2';
    const grade = ctx.year - rng.int(ctx.departed ? 4 : 0, ctx.departed ? 7 : 3);
    const campus = undergrad ? null : rng.pick(campuses);
    const college = undergrad ? rng.pick(colleges) : null;
    const pol = rng.pick(political);
    const overseas = rng.chance(0.03);
    const category: Pair = rng.chance(0.92) ? ['3', '学历学位生'] : ['2', '非学历生'];
    const row: Row = {
      campusCode: campus ? campus[0] : BLANK,
      campusName: campus ? campus[1] : null,
      createTime: ctx.created,
      currentGrade: grade,
      deptCode: '',
      deptName: '',
      expGraduationDate: undergrad ? '0001-01-01 00:00:00' : `${grade + 3}-06-30 00:00:00`,
      isIncumbencyCode: undergrad ? BLANK : '0',
      isIncumbencyName: undergrad ? null : '否',
      isMembershipCode: undergrad ? '1' : BLANK,
      isMembershipName: undergrad ? '是' : null,
      leaveSchoolCode: '1',
      leaveSchoolName: '校内在读',
      isOverseasCode: overseas ? '1' : '0',
      isOverseasName: overseas ? '是' : '否',
      name: ctx.name,
      offSchool: BLANK,
      politicalStatusCode: pol[0],
      politicalStatusName: pol[1],
      registrationStatusCode: undergrad ? '20' : BLANK,
      registrationStatusName: undergrad ? '在校' : null,
      schoolCode: college ? college[0] : BLANK,
      schoolName: college ? college[1] : null,
      secondDeptCode: '',
      secondDeptName: '',
      sexCode: ctx.sex,
      sexName: sexName[ctx.sex],
      statusCode: '0',
      statusName: '有效',
      teacherId: `1${String(rng.int(0, 99_999)).padStart(5, '0')}`,
      trainingCategoryCode: category[0],
      trainingCategoryName: category[1],
      trainingLevelCode: (levels[typeCode] as Pair)[0],
      trainingLevelName: (levels[typeCode] as Pair)[1],
      updateTime: ctx.updated,
      userId: ctx.keys.tongjiStudent.next(rng),
      userTypeCode: typeCode,
      userTypeName: typeName,
      viceTeacherId: BLANK,
      enrolDate: BLANK,
      lengthSchooling: undergrad ? '4' : typeCode === '3' ? '3' : '4',
      managementCollege2Code: BLANK,
      managementCollege2Name: null,
    };
    placeStudent(row, rng, rng.pick(tongjiTeaching));
    if (ctx.departed) students.depart(row, `${grade + 4}-07-01`);
    return row;
  },
  update(row, rng) {
    placeStudent(
      row,
      rng,
      pickOther(rng, tongjiTeaching, (d) => d.id === row['deptCode']),
    );
  },
  depart(row, today) {
    Object.assign(row, { statusCode: '1', statusName: '失效', leaveSchoolCode: '2', leaveSchoolName: '离校', offSchool: today });
    if (row['userTypeCode'] === '2') {
      Object.assign(row, { isMembershipCode: '0', isMembershipName: '否', registrationStatusCode: '30', registrationStatusName: '离校' });
    }
  },
};

const staffTypes: readonly (readonly [number, Pair])[] = [
  [60, ['2', '事业编制']],
  [25, ['1', '派遣人员']],
  [15, ['4', '合同制']],
];
const jobTypes: readonly Pair[] = [
  ['11', '专任教师'],
  ['21', '专业技术类教辅系列'],
  ['31', '管理类'],
];
const schools = ['同济大学', '复旦大学', '上海交通大学', '清华大学', '浙江大学', '华东师范大学', '东南大学', '慕尼黑工业大学'];
const degrees: readonly (readonly [Pair, Pair])[] = [
  [
    ['11', '博士研究生毕业'],
    ['301', '工学博士学位'],
  ],
  [
    ['14', '硕士研究生毕业'],
    ['308', '工学硕士学位'],
  ],
  [
    ['21', '大学本科毕业'],
    ['408', '工学学士学位'],
  ],
];

const staff: DatasetSpec = {
  id: 'tongji-staff',
  provider: 'tongji',
  keyField: 'userId',
  path: `${DC}/teacher_infos`,
  isValid: (row) => row['statusCode'] === '0',
  create(ctx: RowContext) {
    const { rng } = ctx;
    const dept: Department = rng.pick(tongjiDepartments);
    const type = rng.weighted(staffTypes);
    const job = rng.pick(jobTypes);
    const [edu, degree] = rng.pick(degrees);
    const grad = ctx.year - rng.int(2, 30);
    const dispatched = type[0] === '1';
    const row: Row = {
      createTime: ctx.created,
      currentStatusCode: rng.chance(0.97) ? '11' : '18',
      currentStatusName: '',
      degreeAwardedDate: `${grad}-06`,
      deptCode: dept.id,
      deptName: dept.name,
      endTime: BLANK,
      expRetireDate: BLANK,
      fundSourceCode: dispatched ? BLANK : '1',
      fundSourceName: dispatched ? null : '学校经费',
      graduationDate: `${grad}-06`,
      graduationSchool: rng.pick(schools),
      inschoolDate: `${grad + rng.int(0, 2)}-${String(rng.int(1, 12)).padStart(2, '0')}-01`,
      isFullResearch: rng.chance(0.2) ? '1' : '0',
      isReportable: dispatched ? BLANK : '1',
      jobOfferDate: BLANK,
      jobTypeCode: job[0],
      jobTypeName: job[1],
      joinDate: BLANK,
      major: rng.pick(rng.pick(tongjiTeaching).majors).name,
      name: ctx.name,
      quitDate: BLANK,
      secondDeptCode: BLANK,
      secondDeptName: null,
      sendUserTypeCode: dispatched ? '3' : BLANK,
      sendUserTypeName: dispatched ? '双轨制' : null,
      sexCode: ctx.sex,
      sexName: sexName[ctx.sex],
      startTime: BLANK,
      statusCode: '0',
      statusName: '有效',
      updateTime: ctx.updated,
      userId: (rng.chance(0.4) ? ctx.keys.tongjiStaff0 : ctx.keys.tongjiStaff1).next(rng),
      userTypeCode: type[0],
      userTypeName: type[1],
      highestDegreeCode: degree[0],
      highestDegreeName: degree[1],
      highestEduCode: edu[0],
      highestEduName: edu[1],
      researchDirection: BLANK,
    };
    row['currentStatusName'] = row['currentStatusCode'] === '11' ? '在职' : '待审批';
    if (ctx.departed) staff.depart(row, `${ctx.year - rng.int(1, 3)}-0${rng.int(1, 9)}-15`);
    return row;
  },
  update(row, rng) {
    const dept = pickOther(rng, tongjiDepartments, (d) => d.id === row['deptCode']);
    Object.assign(row, { deptCode: dept.id, deptName: dept.name });
  },
  depart(row, today) {
    Object.assign(row, { currentStatusCode: '21', currentStatusName: '离职', quitDate: today, statusCode: '1', statusName: '失效' });
  },
};

const stations: readonly Pair[] = [
  ['1', '土木工程'],
  ['2', '建筑学'],
  ['3', '环境科学与工程'],
  ['4', '机械工程'],
  ['5', '管理科学与工程'],
];
const recruits: readonly Pair[] = [
  ['1', '统招'],
  ['2', '在职'],
  ['5', '外籍'],
  ['6', '留学回国'],
];
const topics = ['城市更新', '深部岩土', '智能建造', '水环境修复', '交通流', '韧性城市', '碳中和路径', '结构健康监测'];

const postdocs: DatasetSpec = {
  id: 'tongji-postdocs',
  provider: 'tongji',
  keyField: 'userId',
  path: `${DC}/postdoc_info`,
  // postdoc_info has no statusCode: every row is served; a departure sets postdocExitDate.
  isValid: () => true,
  isActive: (row) => row['postdocExitDate'] === BLANK,
  create(ctx: RowContext) {
    const { rng } = ctx;
    const inYear = ctx.year - rng.int(ctx.departed ? 3 : 0, ctx.departed ? 6 : 2);
    const inDate = `${inYear}-${String(rng.int(1, 12)).padStart(2, '0')}-16`;
    const recruit = rng.pick(recruits);
    const station = rng.pick(stations);
    return {
      contractEndDate: `${inYear + 2}${inDate.slice(4)} 00:00:00`,
      drDegreeDt: BLANK,
      drDegreeGrantDt: `${inYear}-06-30`,
      drGraduationUnit: rng.chance(0.5) ? BLANK : rng.pick(schools),
      drGrantCountryCode: '156',
      drGrantCountryName: '中华人民共和国',
      drThesisTitle: `${rng.pick(topics)}的${rng.pick(['机理', '方法', '评估', '优化'])}研究`,
      inStationDate: inDate,
      // Per seeds/004: recruit forms 1, 5 and 6 count as full-time postdocs.
      isFullPostdoc: ['1', '5', '6'].includes(recruit[0]) ? '1' : '0',
      mobileStationCode: station[0],
      mobileStationName: station[1],
      name: ctx.name,
      postdocExitDate: ctx.departed ? `${inYear + 2}-07-28` : BLANK,
      recruitCode: recruit[0],
      recruitName: recruit[1],
      userId: ctx.keys.tongjiStaff1.next(rng),
      createTime: ctx.created,
      updateTime: ctx.updated,
    };
  },
  update(row, rng) {
    const station = pickOther(rng, stations, (s) => s[0] === row['mobileStationCode']);
    Object.assign(row, { mobileStationCode: station[0], mobileStationName: station[1] });
  },
  depart(row, today) {
    row['postdocExitDate'] = today;
  },
};

export const tongjiSpecs = { 'tongji-students': students, 'tongji-staff': staff, 'tongji-postdocs': postdocs } as const;

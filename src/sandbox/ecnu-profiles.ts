import type { DatasetStore, Found } from './datasets.js';
import { ecnuDepartments } from './departments.js';
import { Random } from './random.js';
import type { Entry, Row } from './rows.js';

/**
 * Profile answers of seeds/001, derived from the sync rows plus facts seeded by the person id,
 * so a profile never contradicts the person's sync row and is the same on every call.
 */

const titles = [
  ['011', '教授', '1', '正高', '0104', '正高四级'],
  ['012', '副教授', '2', '副高', '0107', '副高三级'],
  ['013', '讲师', '3', '中级', '0110', '中级三级'],
  ['082', '高级工程师', '2', '副高', '0107', '副高三级'],
  ['083', '工程师', '3', '中级', '0110', '中级三级'],
] as const;

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function rngFor(store: DatasetStore, entry: Entry, what: string): Random {
  return new Random(store.seed, `${what}:${entry.pid}`);
}

function majorOf(rng: Random, departmentId: unknown): { code: string; name: string } {
  const dept = ecnuDepartments.find((d) => d.id === departmentId);
  return dept && dept.majors.length > 0 ? rng.pick(dept.majors) : { code: '', name: '' };
}

/** A supervisor: some on-duty person of ecnu-staff, chosen by the student's person id. */
function supervisor(store: DatasetStore, rng: Random): { id: string; name: string } {
  const staff = store.table('ecnu-staff').entries;
  if (staff.length === 0) return { id: '', name: '' };
  const e = staff[rng.int(0, staff.length - 1)] as Entry;
  return { id: e.key, name: str(e.row['name']) };
}

export function staffProfile(store: DatasetStore, { entry }: Found): Row {
  const r = entry.row;
  const facts = store.facts(entry.pid);
  const rng = rngFor(store, entry, 'staff-profile');
  const born = Number(facts.birthday.slice(0, 4));
  const joined = Math.min(born + rng.int(24, 32), store.year);
  const [technicCode, technicName, techLevel, techLevelName, postLevel, postLevelName] = rng.pick(titles);
  const termStart = Math.max(joined, store.year - rng.int(0, 2));
  return {
    userId: entry.key,
    name: r['name'],
    departmentId: r['departmentId'],
    department: r['department'],
    sexId: facts.sex,
    sex: facts.sex === '1' ? '男性' : '女性',
    mail: `${entry.key}@admin.ecnu.edu.cn`,
    status: r['status'],
    // seeds/001's table says statusname, its example statusName: the example is what comes back.
    statusName: r['statusname'],
    birthday: facts.birthday,
    joinDate: `${joined}-08-01`,
    technicCode,
    technicName,
    techLevel,
    techLevelName,
    techStartDate: '',
    post: [{ postSort: '01', postSortName: '专业技术岗位', postLevel, postLevelName, postStartDate: `${termStart - 1}-12-31` }],
    startDate: `${termStart}-08-01`,
    endDate: `${termStart + 3}-07-31`,
  };
}

export function studentProfile(store: DatasetStore, { entry }: Found): Row {
  const r = entry.row;
  const rng = rngFor(store, entry, 'student-profile');
  const undergrad = r['userType'] === '本科生';
  const nj = store.year - rng.int(0, 3);
  const xz = undergrad ? 4 : 3;
  const major = majorOf(rng, r['departmentId']);
  const classNo = `${nj % 100}${major.code}0${rng.int(1, 4)}`;
  return {
    userId: entry.key,
    xm: r['name'],
    departmentId: r['departmentId'],
    departmentName: r['department'],
    parentDepartmentId: r['departmentId'],
    parentDepartmentName: r['department'],
    classNo,
    className: `${undergrad ? '本科' : '研究生'}${nj % 100}级${major.name}专业${classNo.slice(-2)}班`,
    xbm: store.facts(entry.pid).sex,
    nj: String(nj),
    xz: String(xz),
    zydm: major.code,
    zymc: major.name,
    zzmmm: '',
    userType: r['userType'],
    xq: rng.pick(['闵行校区', '中山北路校区']),
    sfzx: r['active'],
    startTime: `${nj}-09-01`,
    endTime: `${nj + xz}-07-01`,
    active: r['active'],
    xwlb: undergrad ? '本科' : '硕士',
    xxxs: '普通全日制',
  };
}

export function undergradProfile(store: DatasetStore, { entry }: Found): Row {
  const r = entry.row;
  const rng = rngFor(store, entry, 'bks-profile');
  const nj = str(r['nj']);
  const graduated = r['sfzx'] === '0';
  const tutor = graduated ? supervisor(store, rng) : { id: '', name: '' };
  return {
    xbm: store.facts(entry.pid).sex,
    xz: '4',
    xxxs: r['xxxs'] === '普通全日制' ? '3' : '5',
    zyh: r['zyh'],
    xslb: '统招生',
    xxxsmc: r['xxxs'],
    sfmsm: '0',
    normal: rng.chance(0.2) ? '1' : '0',
    xslbId: '15',
    rxny: `${nj}-09-01`,
    sfzx: r['sfzx'],
    zyyx: r['zyyx'],
    userId: entry.key,
    bdrq: `${nj}-09-01`,
    xh: entry.key,
    bjmc: `本科${nj.slice(2)}级${str(r['zy'])}专业0${rng.int(1, 4)}班`,
    glyx: r['glyx'],
    xm: r['xm'],
    glyxm: r['glyxm'],
    lxrq: r['lxrq'],
    xq: rng.pick(['闵行校区', '中山北路校区']),
    nj,
    zy: r['zy'],
    zyyxm: r['zyyxm'],
    dsgh: tutor.id,
    dsxm: tutor.name,
    lw: graduated ? `${str(r['zy'])}相关问题研究` : '',
  };
}

export function gradProfile(store: DatasetStore, { entry }: Found): Row {
  const r = entry.row;
  const rng = rngFor(store, entry, 'yjs-profile');
  const doctor = rng.chance(0.25);
  const nj = store.year - rng.int(0, doctor ? 3 : 2);
  const major = majorOf(rng, r['departmentId']);
  const tutor = supervisor(store, rng);
  const inSchool = r['active'] === '1';
  const professional = !doctor && rng.chance(0.5);
  return {
    cc: doctor ? '博士研究生' : '硕士研究生',
    xz: doctor ? '4' : professional ? '2.5' : '3',
    xbm: store.facts(entry.pid).sex,
    xxxs: '全日制',
    sfzx: inSchool ? '1' : '0',
    zxjh: doctor ? '博士_无专项计划' : '硕士_无专项计划',
    lqlb: '非定向',
    dsxm: tutor.name,
    zymc: major.name,
    yxmc: r['department'],
    userId: entry.key,
    rxrq: `${nj}-09-01`,
    xh: entry.key,
    yxdm: r['departmentId'],
    zydm: major.code,
    lqlbdm: '11',
    xwlx: professional ? '专业学位' : '学术学位',
    xm: r['name'],
    yjbyrq: `${nj + (doctor ? 4 : 3)}-07-01`,
    nj: String(nj),
    dsgh: tutor.id,
    xq: '闵行校区',
    zxzt: inSchool ? '在校' : '离校',
  };
}

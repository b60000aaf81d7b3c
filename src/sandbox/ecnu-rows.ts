import { ecnuDepartments, ecnuTeaching, type Department } from './departments.js';
import type { Random } from './random.js';
import { pickOther, type DatasetSpec, type Row, type RowContext } from './rows.js';

/**
 * ECNU datasets: fields and their order follow the examples in seeds/000 (the tables and the
 * examples disagree on `userid`/`userId` for staff: see ecnuStaffKeyField).
 */

const SYNC = '/api/v1/sync/userinfo';

function moveDepartment(row: Row, rng: Random, pool: readonly Department[], idField: string, nameField: string): void {
  const dept = pickOther(rng, pool, (d) => d.id === row[idField]);
  row[idField] = dept.id;
  row[nameField] = dept.name;
}

export const ecnuUserTypes = [
  [40, '本科生'],
  [25, '研究生'],
  [22, '教职工'],
  [3, '博士后'],
  [5, '临时人员'],
  [5, '丽娃人员'],
] as const;

export type EcnuUserType = (typeof ecnuUserTypes)[number][1];

/** The generic userinfo row; also used to project a person of another dataset into it. */
export function ecnuUserRow(ctx: RowContext, key: string, userType: string, dept: Department, active: boolean): Row {
  return {
    created_at: ctx.created,
    updated_at: ctx.updated,
    deleted_mark: ctx.deleted,
    userId: key,
    name: ctx.name,
    departmentId: dept.id,
    department: dept.name,
    active: active ? '1' : '0',
    userType,
  };
}

const isStudentType = (t: unknown): boolean => t === '本科生' || t === '研究生';

/** A userinfo person who exists in no other dataset (or whose pool there ran out). */
export function freshEcnuUser(ctx: RowContext, userType: EcnuUserType): Row {
  const { rng, keys } = ctx;
  const space = userType === '本科生' ? keys.ecnuUndergrad : userType === '研究生' ? keys.ecnuGrad : keys.ecnuStaff;
  const dept = rng.pick(isStudentType(userType) ? ecnuTeaching : ecnuDepartments);
  return ecnuUserRow(ctx, space.next(rng), userType, dept, !ctx.departed);
}

const users: DatasetSpec = {
  id: 'ecnu-users',
  provider: 'ecnu',
  keyField: 'userId',
  path: SYNC,
  isValid: (row) => row['active'] === '1',
  create: (ctx) => freshEcnuUser(ctx, ctx.rng.weighted(ecnuUserTypes)),
  update(row, rng) {
    const name = String(row['name']);
    // A renamed person keeps the surname: only the last character changes.
    if (rng.chance(0.25)) row['name'] = name.slice(0, -1) + pickOther(rng, ['华', '明', '静', '婷', '杰'], (c) => name.endsWith(c));
    else moveDepartment(row, rng, isStudentType(row['userType']) ? ecnuTeaching : ecnuDepartments, 'departmentId', 'department');
  },
  depart(row) {
    row['active'] = '0';
  },
};

const statusNames: Record<string, string> = { on: '在职', quit: '离职', retire: '离退休' };

function staffLike(id: 'ecnu-staff' | 'ecnu-postdocs', path: string): DatasetSpec {
  const postdoc = id === 'ecnu-postdocs';
  return {
    id,
    provider: 'ecnu',
    // Overridden per sandbox by ecnuStaffKeyField for staff (the doc's table says userid).
    keyField: 'userId',
    path,
    isValid: (row) => row['status'] === 'on',
    create(ctx) {
      const { rng } = ctx;
      const userType = postdoc ? '博士后' : rng.chance(0.85) ? '教职工' : '临时人员';
      // 临时人员 only know on/quit (seeds/000: "对于临时人员部分,在校部分取 on,离校部分取 quit").
      const status = !ctx.departed ? 'on' : postdoc || userType === '临时人员' || rng.chance(0.5) ? 'quit' : 'retire';
      const dept = rng.pick(postdoc ? ecnuTeaching : ecnuDepartments);
      return {
        created_at: ctx.created,
        updated_at: ctx.updated,
        deleted_mark: ctx.deleted,
        [postdoc ? 'userId' : ctx.staffKeyField]: ctx.keys.ecnuStaff.next(rng),
        name: ctx.name,
        departmentId: dept.id,
        department: dept.name,
        statusname: postdoc && status === 'quit' ? '出站' : statusNames[status],
        status,
        xbm: ctx.sex,
        userType,
      };
    },
    update(row, rng) {
      moveDepartment(row, rng, postdoc ? ecnuTeaching : ecnuDepartments, 'departmentId', 'department');
    },
    depart(row) {
      row['status'] = 'quit';
      row['statusname'] = postdoc ? '出站' : '离职';
    },
  };
}

function students(type: '本科生' | '研究生'): DatasetSpec {
  return {
    id: `ecnu-students:${type}`,
    provider: 'ecnu',
    keyField: 'userId',
    path: `${SYNC}/studentinfo?type=${type}`,
    isValid: (row) => row['active'] === '1',
    create(ctx) {
      const space = type === '本科生' ? ctx.keys.ecnuUndergrad : ctx.keys.ecnuGrad;
      return ecnuUserRow(ctx, space.next(ctx.rng), type, ctx.rng.pick(ecnuTeaching), !ctx.departed);
    },
    update(row, rng) {
      moveDepartment(row, rng, ecnuTeaching, 'departmentId', 'department');
    },
    depart(row) {
      row['active'] = '0';
    },
  };
}

function setUndergradDepartment(row: Row, rng: Random): void {
  const dept = pickOther(rng, ecnuTeaching, (d) => d.id === row['zyyxm']);
  const major = rng.pick(dept.majors);
  Object.assign(row, { glyxm: dept.id, glyx: dept.name, sty: dept.name, stym: dept.id, zyyx: dept.name, zyyxm: dept.id });
  Object.assign(row, { zyh: major.code, zy: major.name });
}

const undergrads: DatasetSpec = {
  id: 'ecnu-undergrads',
  provider: 'ecnu',
  keyField: 'xh',
  path: `${SYNC}/studentinfo_bk`,
  isValid: (row) => row['sfzx'] === '1',
  create(ctx) {
    const { rng } = ctx;
    const nj = ctx.year - rng.int(ctx.departed ? 4 : 0, ctx.departed ? 8 : 3);
    const row: Row = { xh: ctx.keys.ecnuUndergrad.next(rng), xm: ctx.name };
    setUndergradDepartment(row, rng);
    return Object.assign(row, {
      nj: String(nj),
      xlcc: '本科',
      xxxs: rng.chance(0.95) ? '普通全日制' : '非全日制',
      sfzx: ctx.departed ? '0' : '1',
      // For students still in school lxrq is the expected leaving date (seeds/000 example).
      lxrq: `${nj + 4}-07-01`,
      deleted_mark: ctx.deleted,
      updated_at: ctx.updated,
      created_at: ctx.created,
    });
  },
  update: setUndergradDepartment,
  depart(row, today) {
    row['sfzx'] = '0';
    row['lxrq'] = today;
  },
};

const customized: DatasetSpec = {
  id: 'ecnu-customized',
  provider: 'ecnu',
  keyField: 'userId',
  path: '/api/v1/customized/sandbox',
  isValid: (row) => row['active'] === '1',
  create(ctx) {
    const dept = ctx.rng.pick(ecnuDepartments);
    // Field order of seeds/000's customised example: deleted_mark, created_at, business, updated_at.
    return {
      deleted_mark: ctx.deleted,
      created_at: ctx.created,
      userId: ctx.keys.ecnuCustom.next(ctx.rng),
      name: ctx.name,
      departmentId: dept.id,
      department: dept.name,
      active: ctx.departed ? '0' : '1',
      updated_at: ctx.updated,
    };
  },
  update(row, rng) {
    moveDepartment(row, rng, ecnuDepartments, 'departmentId', 'department');
  },
  depart(row) {
    row['active'] = '0';
  },
};

export const ecnuSpecs = {
  'ecnu-users': users,
  'ecnu-staff': staffLike('ecnu-staff', `${SYNC}/rsuserinfo`),
  'ecnu-postdocs': staffLike('ecnu-postdocs', `${SYNC}/bsh`),
  'ecnu-students:本科生': students('本科生'),
  'ecnu-students:研究生': students('研究生'),
  'ecnu-undergrads': undergrads,
  'ecnu-customized': customized,
} as const;

import type { DatasetStore, Found } from './datasets.js';
import { EcnuErr, ecnuError, ecnuOk } from './ecnu-envelope.js';
import { gradProfile, staffProfile, studentProfile, undergradProfile } from './ecnu-profiles.js';
import { methodNotAllowed, requestId, type Reply, type SandboxRequest } from './http-util.js';
import { photoFor } from './jpeg.js';
import type { Row } from './rows.js';
import type { Grant } from './tokens.js';
import type { DatasetId } from './types.js';

/** Person lookups of seeds/001. `data` is always an array; an unknown person gives []. */

type Lookup = (store: DatasetStore, id: string) => Row[];

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

function profile(datasets: readonly DatasetId[], build: (store: DatasetStore, f: Found) => Row): Lookup {
  return (store, id) => {
    const found = store.findEcnu(id, datasets);
    return found ? [build(store, found)] : [];
  };
}

/** A row of any dataset in the shape of userinfo (undergrads say xm/zyyxm/sfzx instead). */
function asUser({ dataset, entry }: Found): Row {
  const r = entry.row;
  const active = r['active'] ?? (r['status'] !== undefined ? (r['status'] === 'on' ? '1' : '0') : r['sfzx']);
  return {
    userId: entry.key,
    name: r['name'] ?? r['xm'],
    departmentId: r['departmentId'] ?? r['zyyxm'],
    department: r['department'] ?? r['zyyx'],
    active: str(active),
    userType: r['userType'] ?? (dataset === 'ecnu-undergrads' ? '本科生' : ''),
  };
}

/** One entry per userId: the same key in userinfo and in its source dataset is one identity. */
function distinctIdentities(found: Found[]): Row[] {
  const seen = new Map<string, Row>();
  for (const f of found) if (!seen.has(f.entry.key)) seen.set(f.entry.key, asUser(f));
  return [...seen.values()];
}

const lookups: Record<string, Lookup> = {
  // "本接口只返回在校状态的用户"
  info(store, id) {
    const found = store.findEcnu(id, ['ecnu-users']);
    if (!found || found.entry.row['active'] !== '1') return [];
    const u = asUser(found);
    return [
      {
        departmentId: u['departmentId'],
        active: u['active'],
        userType: u['userType'],
        department: u['department'],
        userId: u['userId'],
        name: u['name'],
      },
    ];
  },
  'sensitive/zj'(store, id) {
    const found = store.findEcnu(id);
    return found ? [{ zjlx: '居民身份证', zjhm: store.facts(found.entry.pid).idNumber, userId: found.entry.key }] : [];
  },
  'profile/staff': profile(['ecnu-staff', 'ecnu-postdocs'], staffProfile),
  'profile/student': profile(['ecnu-students:本科生', 'ecnu-students:研究生'], studentProfile),
  'profile/bks': profile(['ecnu-undergrads'], undergradProfile),
  'profile/yjs': profile(['ecnu-students:研究生'], gradProfile),
  multisearch(store, id) {
    const found = store.findEcnu(id);
    if (!found) return [];
    const idNumber = store.facts(found.entry.pid).idNumber;
    // Keys as in seeds/001's example (userId, departmentId, user_type), zjhm cut to its last six.
    return distinctIdentities(store.identities(found.entry.pid)).map((u) => ({
      userId: u['userId'],
      zjhm: idNumber.slice(-6),
      departmentId: u['departmentId'],
      department: u['department'],
      active: u['active'],
      user_type: u['userType'],
    }));
  },
};

const PREFIX = '/api/v1/user/';

export function isEcnuLookupPath(path: string): boolean {
  if (!path.startsWith(PREFIX)) return false;
  const name = path.slice(PREFIX.length);
  return name in lookups || name === 'photo' || name === 'idsearch';
}

export function ecnuLookup(req: SandboxRequest, grant: Grant, store: DatasetStore): Reply {
  if (req.method !== 'GET') return methodNotAllowed();
  const name = req.url.pathname.slice(PREFIX.length);
  const q = req.url.searchParams;
  if (name === 'idsearch') {
    const zjhm = q.get('zjhm');
    if (!zjhm) return ecnuError(EcnuErr.missing, '缺少参数 zjhm');
    const pid = store.pidOfIdNumber(zjhm.toUpperCase());
    const people = pid === undefined ? [] : distinctIdentities(store.identities(pid));
    return ecnuOk(people.map((u) => ({ name: u['name'], userType: u['userType'], userId: u['userId'] })));
  }
  // multisearch documents `userid`; the rest `userId`. Tokens bound to a person default to "me".
  const id = (name === 'multisearch' ? q.get('userid') || q.get('userId') : q.get('userId')) || grant.userId;
  if (!id) return ecnuError(EcnuErr.missing, `缺少参数 ${name === 'multisearch' ? 'userid' : 'userId'}`);
  if (name === 'photo') {
    if (!store.findEcnu(id)) return ecnuError(EcnuErr.badValue, '用户不存在');
    return { status: 200, headers: { 'content-type': 'image/jpeg', 'x-ca-request-id': requestId() }, body: photoFor(id) };
  }
  return ecnuOk((lookups[name] as Lookup)(store, id));
}

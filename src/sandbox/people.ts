import { Random } from './random.js';

/** Made-up people: names, sex, birthday and an ID-card number with a valid checksum. */

const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
  '何',
  '高',
  '林',
  '罗',
  '郑',
  '梁',
  '谢',
  '宋',
  '唐',
  '许',
  '韩',
  '冯',
  '邓',
  '曹',
  '彭',
  '曾',
  '肖',
  '田',
  '董',
  '袁',
  '潘',
  '于',
  '蒋',
  '蔡',
  '余',
  '杜',
  '叶',
  '程',
  '苏',
  '魏',
  '吕',
  '丁',
  '任',
  '沈',
  '姚',
  '卢',
  '姜',
  '崔',
  '钟',
  '谭',
  '陆',
  '汪',
  '范',
  '金',
  '石',
  '廖',
  '贾',
  '夏',
  '韦',
  '付',
  '方',
  '白',
  '邹',
  '孟',
  '熊',
  '秦',
  '邱',
  '江',
  '尹',
  '薛',
  '闫',
  '段',
  '雷',
  '侯',
  '龙',
  '史',
  '陶',
  '黎',
  '贺',
  '顾',
  '毛',
  '郝',
  '龚',
  '邵',
  '万',
  '钱',
  '严',
  '覃',
  '武',
  '戴',
  '莫',
  '孔',
  '向',
  '汤',
  '欧阳',
  '司马',
  '上官',
  '计',
  '宗',
  '钭',
];

const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '丽',
  '强',
  '磊',
  '军',
  '洋',
  '勇',
  '艳',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '秀',
  '霞',
  '平',
  '刚',
  '桂',
  '英',
  '华',
  '玉',
  '萍',
  '红',
  '鹏',
  '辉',
  '建',
  '文',
  '斌',
  '宇',
  '浩',
  '凯',
  '俊',
  '帆',
  '琳',
  '晨',
  '欣',
  '怡',
  '悦',
  '轩',
  '涵',
  '梓',
  '子',
  '一',
  '思',
  '雨',
  '诗',
  '嘉',
  '佳',
  '博',
  '瑞',
  '泽',
  '宁',
  '安',
  '然',
  '逸',
  '昊',
  '睿',
  '航',
  '晗',
  '萱',
  '彤',
  '璐',
  '婷',
  '倩',
  '颖',
  '岚',
  '峰',
  '磊',
  '昕',
  '源',
  '淼',
  '婧',
  '晓',
  '东',
  '海',
  '波',
  '亮',
  '蕾',
  '薇',
  '菲',
  '昱',
  '铭',
  '哲',
  '骏',
  '凡',
  '诚',
];

export function makeName(rng: Random): string {
  const surname = rng.pick(SURNAMES);
  return rng.chance(0.3) ? surname + rng.pick(GIVEN) : surname + rng.pick(GIVEN) + rng.pick(GIVEN);
}

/** '1' male, '2' female (GB/T 2261.1, as the platforms' xbm/sexCode use). */
export type SexCode = '1' | '2';

export const sexName: Record<SexCode, string> = { '1': '男', '2': '女' };

const REGIONS = ['310104', '310110', '310115', '320102', '330106', '110105', '440305', '510107', '420106', '370102'];
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** GB 11643 ID number: region, birthday, sequence (odd for men), checksum. */
export function makeIdNumber(rng: Random, birthday: string, sex: SexCode): string {
  let seq = rng.int(0, 998);
  if ((seq % 2 === 1) !== (sex === '1')) seq += 1;
  const body = rng.pick(REGIONS) + birthday.replace(/-/g, '') + String(seq).padStart(3, '0');
  return body + idChecksum(body);
}

export function idChecksum(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * (WEIGHTS[i] as number);
  return CHECK[sum % 11] as string;
}

export interface PersonFacts {
  sex: SexCode;
  birthday: string;
  idNumber: string;
}

/** A person's sex from the person id alone, cheap enough to call for a million rows. */
export function sexOf(seed: number, pid: number): SexCode {
  const h = Math.imul(pid ^ seed, 0x9e3779b1) >>> 0;
  return (h >>> 16) & 1 ? '1' : '2';
}

/**
 * What a row does not carry but lookups reveal, derived from the person id so it costs no memory
 * per row and is the same for every identity of one person.
 */
export function personFacts(seed: number, pid: number): PersonFacts {
  const rng = new Random(seed, `person:${pid}`);
  const sex = sexOf(seed, pid);
  const birthday = `${rng.int(1962, 2006)}-${pad2(rng.int(1, 12))}-${pad2(rng.int(1, 28))}`;
  return { sex, birthday, idNumber: makeIdNumber(rng, birthday, sex) };
}

export const pad2 = (n: number): string => String(n).padStart(2, '0');

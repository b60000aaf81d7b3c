/**
 * ID-card numbers are personal sensitive data: which fields hold one, and how one is shown
 * masked. In core/ because the --verbose request log masks them too (lookup --by-idcard sends one).
 */

// Field names that hold an ID-card number, compared without case, `_` or `-`. A list, not a
// pattern: ECNU's `sfzx` (是否在校, "in school") starts like `sfzh` (身份证号) but is harmless.
const idNumberFields = new Set([
  'zjhm', // 证件号码 (sensitive/zj, multisearch)
  'zjh',
  'sfzh', // 身份证号
  'sfzhm',
  'sfzjh',
  'sfzjhm',
  'idcard',
  'idcardno',
  'idcardnum',
  'idcardnumber',
  'idnumber',
  'idno',
  'certno',
  'certnum',
  'certificateno',
  'certificatenum',
  'certificatenumber',
]);

export function isIdNumberField(name: string): boolean {
  return idNumberFields.has(name.toLowerCase().replace(/[_-]/g, ''));
}

/**
 * Keeps the first 3 and last 4 characters (`310***********1234`). A value too short for that
 * to hide anything (multisearch sends only the last six digits) is starred entirely.
 */
export function maskIdNumber(value: string): string {
  const chars = [...value];
  if (chars.length < 8) return '*'.repeat(chars.length);
  return chars.slice(0, 3).join('') + '*'.repeat(chars.length - 7) + chars.slice(-4).join('');
}

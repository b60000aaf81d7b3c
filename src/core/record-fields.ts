/**
 * Where a person looks first: the record key, then the name. Platforms put them anywhere
 * (Tongji's userId is column 33 of 40), so tables and workbooks move them to the front and
 * keep every other field in the order the platform sent it.
 */
const keyFirst = ['userId', 'userid', 'xh', 'gh', 'zgh'];
const nameFields = ['name', 'xm', 'userName', 'username', 'realName'];

export function leadingFields(fields: readonly string[], keyFields: readonly string[] = keyFirst): string[] {
  const present = new Set(fields);
  const key = keyFields.filter((f) => present.has(f));
  const name = nameFields.filter((f) => present.has(f) && !key.includes(f)).slice(0, 1);
  const lead = [...key, ...name];
  return [...lead, ...fields.filter((f) => !lead.includes(f))];
}

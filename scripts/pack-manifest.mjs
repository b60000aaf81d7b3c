// `prepack` / `postpack`: the packed package.json carries no `prepare` script. The tarball
// ships a built dist/, and npm 11 lists every install-time script of a global install as "not
// yet covered by allowScripts" (a package cannot approve its own scripts there, by design), so
// a `prepare` that would never run still made `npm install -g idsync-*.tgz` warn. The same
// pattern as typicode's pinst. `restore` puts the file back byte for byte.
import fs from 'node:fs';

const file = new URL('../package.json', import.meta.url);
const backup = new URL('../.package.json.prepack', import.meta.url);

if (process.argv[2] === 'strip') {
  const text = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(backup, text);
  const manifest = JSON.parse(text);
  delete manifest.scripts.prepare;
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
} else if (process.argv[2] === 'restore') {
  if (fs.existsSync(backup)) fs.renameSync(backup, file);
} else {
  throw new Error('usage: node scripts/pack-manifest.mjs strip|restore');
}

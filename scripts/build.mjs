// `npm run build` (and `prepare`): bundles the CLI with esbuild into dist/, one file per command
// (code splitting), so that start-up resolves a handful of files instead of several hundred
// (issue #12: ~90 ms of a cached-token lookup went to the module loader). Type checking is
// `npm run typecheck`. Maps are not shipped: a map would point at a src/ that is not.
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outdir = path.join(root, 'dist');
const stamp = path.join(outdir, '.built');

// `--if-stale` (tests, demo, bench): skip when dist/ is newer than every input, so that
// `npm ci && npm test` bundles once, in `prepare`.
if (process.argv.includes('--if-stale') && (await isFresh())) process.exit(0);

/** `undici` itself (not its sub-paths) resolves to scripts/undici-core.cjs: see there why. */
const leanUndici = {
  name: 'lean-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, () => ({ path: path.join(root, 'scripts/undici-core.cjs') }));
  },
};

await fs.rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts'],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Native (better-sqlite3), large and already loaded only on use (exceljs), or with optional
  // native parts resolved at run time (pg): these stay in node_modules.
  external: ['better-sqlite3', 'exceljs', 'pg', 'pg-copy-streams'],
  // Bundled CommonJS packages (undici, conf's ajv) call require() for node's own modules.
  banner: { js: "import { createRequire as __idsyncRequire } from 'node:module';\nconst require = __idsyncRequire(import.meta.url);" },
  legalComments: 'none',
  plugins: [leanUndici],
  logLevel: 'warning',
});
// A stamp newer than every source: the test setup rebuilds only when src/ changed after it.
await fs.writeFile(stamp, new Date().toISOString() + '\n');

async function isFresh() {
  const built = await fs.stat(stamp).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  const inputs = [path.join(root, 'package.json')];
  for (const folder of ['src', 'scripts']) {
    for (const entry of await fs.readdir(path.join(root, folder), { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) inputs.push(path.join(entry.parentPath, entry.name));
    }
  }
  for (const file of inputs) if ((await fs.stat(file)).mtimeMs > built) return false;
  return true;
}

import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './cli.js';

/**
 * vitest globalSetup of the projects that spawn bin/idsync.js: bundles dist/ when src/ changed
 * since the last build, and does nothing after `npm ci` (whose `prepare` just built it).
 */
export default function setup(): void {
  execFileSync(process.execPath, [path.join(repoRoot, 'scripts/build.mjs'), '--if-stale'], { stdio: 'inherit' });
}

import os from 'node:os';
import path from 'node:path';

/**
 * Where config, credentials, token cache and sync state live. IDSYNC_HOME puts everything in
 * one folder (tests, cron); otherwise the OS's usual per-user config folder.
 */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['IDSYNC_HOME'];
  if (explicit) return path.resolve(explicit);
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(env['APPDATA'] ?? path.join(home, 'AppData', 'Roaming'), 'idsync');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'idsync');
  return path.join(env['XDG_CONFIG_HOME'] ?? path.join(home, '.config'), 'idsync');
}

export interface HomePaths {
  root: string;
  /** Owner-only files: client credentials and cached tokens. */
  credentialsFile: string;
  tokensFile: string;
  /** User-declared sources (ECNU customised endpoints). */
  sourcesFile: string;
  stateDir: string;
  locksDir: string;
  /** Spool files of runs in progress (resumable cursors live here too). */
  workDir: string;
  /** Per job: the commit journal and the change events not yet delivered. */
  jobsDir: string;
}

export function homePaths(root: string): HomePaths {
  return {
    root,
    credentialsFile: path.join(root, 'credentials.json'),
    tokensFile: path.join(root, 'tokens.json'),
    sourcesFile: path.join(root, 'sources.json'),
    stateDir: path.join(root, 'state'),
    locksDir: path.join(root, 'locks'),
    workDir: path.join(root, 'work'),
    jobsDir: path.join(root, 'jobs'),
  };
}

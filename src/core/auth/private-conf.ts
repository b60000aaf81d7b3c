import Conf from 'conf';
import { ensurePrivateDir } from '../secure-dir.js';

/**
 * One of idsync's owner-only JSON files under IDSYNC_HOME (credentials, token cache), through
 * conf: the folder is made private first, the file is 0600. `clearInvalid`: whether a file that
 * does not parse may be dropped (a token cache is fetched again; credentials are not).
 */
export function openPrivateConf<T extends Record<string, unknown>>(home: string, name: string, clearInvalid: boolean): Conf<T> {
  ensurePrivateDir(home);
  return new Conf<T>({
    projectName: 'idsync',
    cwd: home,
    configName: name,
    configFileMode: 0o600,
    accessPropertiesByDotNotation: false,
    clearInvalidConfig: clearInvalid,
  });
}

import type { Provider, Row } from '../../core/provider.js';
import { ecnuPages } from './pages.js';
import { ecnuSources } from './sources.js';

const DEFAULT_PAGE_SIZE = 5000;

// deleted_mark: 1 deleted, 0 not (int in some tables, string in others: seeds/000).
const isDeleted = (row: Row): boolean => row['deleted_mark'] === 1 || row['deleted_mark'] === '1';

/**
 * Each ECNU table says "valid" its own way (seeds/000): userinfo and bsh `active` "1", the
 * student tables `sfzx` (在校) "1", rsuserinfo `status` "on". A database snapshot holds text,
 * hence String().
 */
function isActive(row: Row): boolean {
  if (isDeleted(row)) return false;
  for (const [field, on] of [
    ['active', '1'],
    ['sfzx', '1'],
    ['status', 'on'],
  ] as const) {
    if (Object.hasOwn(row, field)) return String(row[field]) === on;
  }
  return true;
}

export const ecnu: Provider = {
  id: 'ecnu',
  displayName: 'East China Normal University',
  sources: ecnuSources,
  sync: {
    updateField: 'updated_at',
    granularity: 'second',
    isDeleted,
    isActive,
    maxPageSize: 10_000,
    defaultPageSize: DEFAULT_PAGE_SIZE,
  },
  pages: (client, req) => ecnuPages(client, req, req.pageSize ?? DEFAULT_PAGE_SIZE),
};

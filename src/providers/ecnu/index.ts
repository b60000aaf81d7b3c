import type { Provider, Row } from '../../core/provider.js';
import { ecnuPages } from './pages.js';
import { ecnuSources } from './sources.js';

const DEFAULT_PAGE_SIZE = 5000;

export const ecnu: Provider = {
  id: 'ecnu',
  displayName: 'East China Normal University',
  sources: ecnuSources,
  sync: {
    updateField: 'updated_at',
    granularity: 'second',
    // deleted_mark: 1 deleted, 0 not (int in some tables, string in others: seeds/000).
    isDeleted: (row: Row) => row['deleted_mark'] === 1 || row['deleted_mark'] === '1',
    maxPageSize: 10_000,
    defaultPageSize: DEFAULT_PAGE_SIZE,
  },
  pages: (client, req) => ecnuPages(client, req, req.pageSize ?? DEFAULT_PAGE_SIZE),
};

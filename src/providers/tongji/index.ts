import type { Provider } from '../types.js';
import { tongjiPages } from './pages.js';
import { tongjiSources } from './sources.js';

// The platform allows 50 requests/s per application and IP (API.md); stay a little under.
const REQUESTS_PER_SECOND = 45;

export const tongji: Provider = {
  id: 'tongji',
  displayName: 'Tongji University',
  defaultBaseUrl: 'https://api.tongji.edu.cn',
  tokenPath: '/v1/token',
  sources: tongjiSources,
  sync: {
    updateField: 'updateTime',
    // Every documented updateTime is at midnight: treat it as precise to the day only.
    granularity: 'day',
    // Tongji has no tombstones: people who leave stay, with statusCode 1.
    isDeleted: () => false,
    maxPageSize: 1000,
    defaultPageSize: 1000,
    // "each answer holds at most 1000 rows" and no page-size parameter exists (seeds/002–004).
    fixedPageSize: 1000,
  },
  pages: (client, req) => tongjiPages(client, req, REQUESTS_PER_SECOND),
};

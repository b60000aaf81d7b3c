import type { Provider } from '../../core/provider.js';
import { tongjiPages } from './pages.js';
import { tongjiSources } from './sources.js';

export const tongji: Provider = {
  id: 'tongji',
  displayName: 'Tongji University',
  sources: tongjiSources,
  sync: {
    updateField: 'updateTime',
    // Every documented updateTime is at midnight: treat it as precise to the day only.
    granularity: 'day',
    // Tongji has no tombstones: people who leave stay, with statusCode 1.
    isDeleted: () => false,
    maxPageSize: 1000,
    defaultPageSize: 1000,
  },
  pages: tongjiPages,
};

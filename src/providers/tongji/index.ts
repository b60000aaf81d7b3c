import type { Provider, Row } from '../../core/provider.js';
import { tongjiPages } from './pages.js';
import { tongjiSources } from './sources.js';

/**
 * statusCode "0" is valid, "1" invalid (API.md). postdoc_info documents no statusCode; there a
 * departure shows as an exit date (postdocExitDate), so a row without either counts as active.
 */
function isActive(row: Row): boolean {
  if (Object.hasOwn(row, 'statusCode')) return String(row['statusCode']) === '0';
  // The platform writes blanks as a single space (seeds/002 examples).
  const exit = row['postdocExitDate'];
  return exit === undefined || exit === null || String(exit).trim() === '';
}

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
    isActive,
    maxPageSize: 1000,
    defaultPageSize: 1000,
    // "each answer holds at most 1000 rows" and no page-size parameter exists (seeds/002–004).
    fixedPageSize: 1000,
  },
  pages: tongjiPages,
};

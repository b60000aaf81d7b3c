import type { ApiClient } from '../core/api-client.js';

export type ProviderId = 'ecnu' | 'tongji';
export const providerIds = ['ecnu', 'tongji'] as const satisfies readonly ProviderId[];

/** A record exactly as the platform sent it. */
export type Row = Record<string, unknown>;

/** How a source pages: ECNU numbers its pages, Tongji hands back a cursor (sinceUserId). */
export type PagingKind = 'page-number' | 'cursor';

/**
 * A source is data, not code: one endpoint of one provider and how to read it.
 * Built-in sources live in each provider's sources table; ECNU customised endpoints come
 * from the user's sources.json and follow the same protocol.
 */
export interface SourceDef {
  name: string;
  provider: ProviderId;
  path: string;
  /** Field names that may hold the record key, tried in order (ECNU docs say `userid`, examples `userId`). */
  keyFields: readonly string[];
  paging: PagingKind;
  /** Parameters the endpoint refuses to work without (ecnu-students: type). */
  requiredParams: readonly string[];
  /**
   * Filter parameters the platform's documents list for this endpoint (those idsync sets itself
   * aside); `--param` with another key is sent but warned about. Undefined: not known (custom).
   */
  documentedParams?: readonly string[];
  /** Parameters sent unless the user gives their own (Tongji statusCode=-1: invalid people too). */
  defaultParams?: Readonly<Record<string, string>>;
  description: string;
  custom?: boolean;
}

/** One page as the engine sees it. */
export interface Page {
  rows: Row[];
  /** ECNU: the page number; Tongji: a running count. */
  index: number;
  /** ECNU totalNum, when the platform says it. */
  total?: number;
  /** Tongji: the cursor to resume after this page (sinceUserId); undefined on the last page. */
  cursor?: string;
  /** The server's clock (HTTP Date header) when it answered, in unix seconds. */
  serverTime?: number;
}

/** What one pull asks of a provider. */
export interface PageRequest {
  source: SourceDef;
  params: Readonly<Record<string, string>>;
  /** Watermark in unix seconds: rows changed after it. undefined = everything. */
  since: number | undefined;
  pageSize: number | undefined;
  concurrency: number;
  /** Resume a cursor-paged pull after this cursor. */
  resumeCursor?: string;
  signal?: AbortSignal;
  /** Called when the provider notices paging may have shifted (totalNum changed mid-scan). */
  onWarning?: (message: string) => void;
}

/** Granularity of the platform's update-time field: Tongji's may be a whole day. */
export type WatermarkGranularity = 'second' | 'day';

export interface SyncSpec {
  /** Field that holds the last-change time, 'YYYY-MM-DD HH:mm:ss' in Asia/Shanghai time. */
  updateField: string;
  granularity: WatermarkGranularity;
  /** A tombstone that must be removed from snapshots (ECNU deleted_mark 1). */
  isDeleted(row: Row): boolean;
  /**
   * Whether a record is an active person (in school, employed): what the change feed's
   * activeBefore/activeAfter say, so that "who left" is one jq filter.
   */
  isActive(row: Row): boolean;
  maxPageSize: number;
  defaultPageSize: number;
  /** The platform decides the page size (Tongji: 1000 rows an answer); --page-size cannot change it. */
  fixedPageSize?: number;
}

export interface Provider {
  id: ProviderId;
  displayName: string;
  sources: readonly SourceDef[];
  sync: SyncSpec;
  /** Pages of one pull, in order, validated; throws UpstreamError on a bad answer. */
  pages(client: ApiClient, req: PageRequest): AsyncIterable<Page>;
}

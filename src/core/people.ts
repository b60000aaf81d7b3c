import type { ApiClient, JsonAnswer } from './api-client.js';
import type { HttpResponse } from './http.js';
import type { ProviderId, Row } from './provider.js';

/**
 * What one `idsync lookup --kind` asks of a platform: data, not code (like the sources table).
 * Each provider declares its own kinds (providers/<id>/lookup-kinds.ts).
 */
export interface LookupKind {
  provider: ProviderId;
  name: string;
  path: string;
  /** The query parameter that carries the id (ECNU multisearch spells it `userid`, seeds/001). */
  idParam: string;
  /** Sent with every request: Tongji statusCode=-1 finds invalid (departed) people too. */
  fixedParams: Readonly<Record<string, string>>;
  /** Ids per request: Tongji postdoc_info takes up to 500 comma-separated (seeds/004). */
  batchSize: number;
  /** The id may be omitted with a signed-in person's token, meaning "me" (seeds/001). */
  allowsMe: boolean;
  description: string;
}

/** What one batch of ids (at most kind.batchSize) found. */
export interface LookupAnswer {
  /** The records, as the platform sent them. */
  rows: Row[];
  /** Ids asked that nothing came back for. */
  missing: string[];
  /** Something the user should hear about this batch. */
  warning?: string;
}

export interface LookupBatch {
  kind: LookupKind;
  /** undefined: the signed-in person; the id parameter is then left out (seeds/001). */
  ids: readonly string[] | undefined;
  /** Awaited before every request after the first, to keep to the platform's rate. */
  pace(): Promise<void>;
}

/** `idsync photo`: a platform that keeps photos of people. */
export interface PhotoSource {
  /** GET one person's photo (undefined: the signed-in person), retrying what the platform calls transient. */
  fetch(client: ApiClient, userId: string | undefined): Promise<HttpResponse>;
  /** Why this answer is the platform's refusal rather than an image, in its words; undefined when it may be one. */
  refusal(res: HttpResponse): string | undefined;
}

/**
 * How a provider looks people up (`idsync lookup`, `photo`, `api`). The neutral parts (ids,
 * masking, the ordered pool, record output) live in lookup/ and call these.
 */
export interface PeopleDirectory {
  provider: ProviderId;
  kinds: readonly LookupKind[];
  /** The kind asked without --kind. */
  defaultKind: string;
  /** `--by-idcard`: find people by ID-card number; absent when the platform cannot. */
  idSearch?: LookupKind;
  /** The kind that answers with the signed-in person's own record, so its userId says who signed in. */
  selfKind?: string;
  /** The platform's published request rate for one application, kept a little under; undefined: none. */
  requestsPerSecond?: number;
  /** One batch: one request, or a few should the platform page. Platform errors throw UpstreamError. */
  lookUp(client: ApiClient, batch: LookupBatch): Promise<LookupAnswer>;
  /** Throws UpstreamError when a JSON object answer carries the platform's envelope with an error. */
  checkAnswer(answer: JsonAnswer, path: string): void;
  /** `idsync api --paginate`: every record of every page, starting where the query says. */
  paginate(client: ApiClient, path: string, query: Readonly<Record<string, string>>, signal?: AbortSignal): AsyncIterable<Row>;
  /** Absent when the platform has no photos. */
  photo?: PhotoSource;
}

export { SearchError, QueryError, type QueryIssue, type SearchErrorCode } from './errors.ts';
export { SearchDb, BODY, INDEX_SCHEMA_VERSION, type OpenOptions } from './search-db.ts';
export { upsertDocuments, sortTime, threadRefs, FLAG_BITS, MAX_BODY_CHARS } from './index-writer.ts';
export { fillBodies, readBodyText } from './body-text.ts';
export { catchUpEventLog, type EventLogCatchUp } from './event-log-source.ts';
export { catchUpListing, archiveRawKeys, type ListingCatchUp } from './archive-listing.ts';
export { defaultIndexPath } from './index-path.ts';
export { catchUp, rebuild, counts, eventLogPath, type CatchUpOptions, type CatchUpSummary } from './catch-up.ts';
export { parseSearchQuery, queryParams, splitTerms, FLAG_PARAMS, PAGE_SIZE, type SearchQuery } from './search-query.ts';
export {
  search,
  matchingIds,
  getDocument,
  isDocumentId,
  dailyStats,
  mailboxTotals,
  COUNT_CAP,
  SHORT_TERM_SCAN,
  type SearchHit,
  type SearchResult,
  type DayStat,
} from './search.ts';
export { threadOf, MAX_THREAD, type ThreadEntry } from './thread.ts';
export { updateIndexAfterRun } from './after-run.ts';

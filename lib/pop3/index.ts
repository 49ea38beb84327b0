/**
 * mail-ingest POP3 client: `connectPop3(options)` resolves to a logged-in `Pop3Client` (TRANSACTION state).
 *
 * Using the streams: responses arrive in command order on one socket, so read RETR/TOP streams in the order the
 * commands were issued (or destroy the ones you skip). A later command's promise may wait until earlier bodies
 * have been read: awaiting all retr() promises before reading any stream can wait forever for large messages.
 * Use pipeline(), for await or stream/promises finished() to observe errors: a body can fail (ECLOSED, ETIMEDOUT,
 * ETOOLARGE) before the caller has attached a listener. Error codes: see errors.ts.
 */
export { connectPop3 } from './client.ts';
export { Pop3Error, parseResponseCode } from './errors.ts';
export type { Pop3ErrorCode, Pop3ErrorDetails } from './errors.ts';
export { DotDecoder, DotUnstuffer } from './dot-unstuffer.ts';
export type * from './types.ts';

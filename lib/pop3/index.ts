export { connectPop3 } from './client.ts';
export { Pop3Error, parseResponseCode } from './errors.ts';
export type { Pop3ErrorCode, Pop3ErrorDetails } from './errors.ts';
export { DotDecoder, DotUnstuffer } from './dot-unstuffer.ts';
export type * from './types.ts';

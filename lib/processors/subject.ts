// The subject's thread key is a fact of parsing, shared with the search index (lib/search may not import
// lib/processors): it lives in lib/parse/thread-keys.ts.
export { normaliseSubject, type NormalisedSubject } from '../parse/thread-keys.ts';

export * from './object-store.ts';
export { MemoryObjectStore } from './memory-object-store.ts';
export { FsObjectStore, fsRawOpener } from './fs-object-store.ts';
// S3ObjectStore (lib/processors/s3-object-store.ts) is imported by path, so the local CLI never loads the AWS SDK.
export { normaliseSubject, type NormalisedSubject } from './subject.ts';
export { TicketIntake, ticketIdFor, type TicketIntakeOptions } from './tickets.ts';
export * from './ticket-types.ts';
export { messageIdIndexKey, subjectIndexKey, ticketKey, normaliseMessageId } from './ticket-index.ts';
export * from './attachments.ts';
export * from './archive-index.ts';

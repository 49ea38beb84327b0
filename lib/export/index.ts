export {
  writeExport,
  zipEntryName,
  EXPORT_FORMATS,
  type ExportFormat,
  type ExportOptions,
  type ExportResult,
  type ExportProgress,
} from './export.ts';
export { ExportError, type ExportErrorCode } from './errors.ts';
export { ZipWriter } from './zip-writer.ts';
export { MboxrdQuoter, mboxFromLine, splitMboxrd } from './mbox.ts';
export { manifestCsv, manifestEntry, manifestJson, type ManifestEntry } from './manifest.ts';

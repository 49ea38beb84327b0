import { CodedError, type FailureClass } from '../coded-error.ts';

/**
 * | code          | class    | meaning and what to do                                                           |
 * |---------------|----------|----------------------------------------------------------------------------------|
 * | EEXPORTVERIFY | storage  | an archived message no longer hashes to its recorded sha256 (or is missing): the |
 * |               |          | export stops and its partial file is removed; check the archive (`serve` marks   |
 * |               |          | it unverified), restore the object from a backup or version                     |
 * | EEXPORTOUT    | storage  | the export file could not be written, or the download was closed: check the path |
 * |               |          | and free space, and run it again                                                 |
 * | EZIP          | internal | the zip writer was misused (a duplicate or unsafe entry name): please report it  |
 */
export type ExportErrorCode = 'EEXPORTVERIFY' | 'EEXPORTOUT' | 'EZIP';

const CLASS: Record<ExportErrorCode, FailureClass> = { EEXPORTVERIFY: 'storage', EEXPORTOUT: 'storage', EZIP: 'internal' };

export class ExportError extends CodedError<ExportErrorCode> {
  constructor(code: ExportErrorCode, message: string, options?: { cause?: unknown }) {
    super('ExportError', code, message, { cause: options?.cause, failureClass: CLASS[code] });
  }
}

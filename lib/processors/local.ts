import path from 'node:path';
import type { LocalProcessorConfig } from '../config/index.ts';
import type { LocalProcessor } from '../publish/local-publisher.ts';
import { extractAttachments } from './attachments.ts';
import { writeIndexRow } from './archive-index.ts';
import { FsObjectStore, fsRawOpener } from './fs-object-store.ts';
import { TicketIntake } from './tickets.ts';
import { processorDefinition } from './registry.ts';

/**
 * The shipped processors over the fs archive, each consuming the local event log with its own cursor and dead
 * letters (lib/publish/local-consumer.ts): the same logic as the Lambda processors, each writing under
 * `<store dir>/processors/<name>/` what the Lambda one writes under its prefix.
 */
export function localProcessors(storeDir: string, configs: readonly LocalProcessorConfig[]): LocalProcessor[] {
  return configs.map((c) => {
    const out = new FsObjectStore(path.join(storeDir, 'processors', c.name));
    const f = c.filter ?? processorDefinition(c.kind).defaultFilter;
    const filter = f === undefined ? {} : { filter: f };
    switch (c.kind) {
      case 'ticket-intake': {
        const intake = new TicketIntake(out);
        return {
          name: c.name,
          ...filter,
          handle: async (doc) => {
            await intake.process(doc);
          },
        };
      }
      case 'attachment-extraction': {
        const openRaw = fsRawOpener(storeDir);
        return {
          name: c.name,
          ...filter,
          handle: async (doc) => {
            await extractAttachments(doc, openRaw, out);
          },
        };
      }
      case 'archive-index':
        return {
          name: c.name,
          ...filter,
          handle: async (doc) => {
            await writeIndexRow(doc, out);
          },
        };
    }
  });
}

import type { Config } from '../../config/index.ts';
import { loadConfig } from '../../config/index.ts';
import { createAdapters, type Adapters } from '../../app/adapters.ts';

export async function openConfig(file: string): Promise<{ config: Config; adapters: Adapters }> {
  const config = await loadConfig(file);
  return { config, adapters: await createAdapters(config) };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Log fields rendered as key=value; values are ours (codes, counts, keys), never secrets or message content. */
export function renderFields(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  return Object.entries(fields)
    .filter(([k]) => k !== 'mailbox')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}

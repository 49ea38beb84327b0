import type { Config } from '../../config/index.ts';
import { loadConfig } from '../../config/index.ts';
import { createAdapters, type AdapterOptions, type Adapters } from '../../app/adapters.ts';
import { terminalJson } from '../format.ts';

export async function openConfig(file: string, options: AdapterOptions = {}): Promise<{ config: Config; adapters: Adapters }> {
  const config = await loadConfig(file);
  return { config, adapters: await createAdapters(config, {}, options) };
}

/** One JSON object on one line (JSON Lines): what every `--json` prints, so outputs can be appended and streamed. */
export function printJsonLine(value: unknown): void {
  process.stdout.write(`${terminalJson(value)}\n`);
}

/**
 * Reads the runtime config a synthesized stack deploys: the `Custom::MailIngestConfig` resource's deploy-time
 * parts (Store, Publish) and its static part (mailboxes and defaults), which ships as a file asset of the cloud
 * assembly. CloudFormation references are written `<Logical>` / `<Logical.Attr>`, as `flat` writes them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { CONFIG_RESOURCE_TYPE } from '../../cdk/constructs/config-deployment.ts';
import { flat, resourcesOf } from './helpers.ts';

export interface DeployedConfig {
  readonly logicalId: string;
  readonly properties: Record<string, any>;
  /** The static part exactly as the writer reads it from the asset bucket. */
  readonly staticText: string;
  /** `{ store, publish, ...static }`, as the writer merges them. */
  readonly doc: Record<string, any>;
}

interface AssetManifest {
  files?: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
}

/** The file of the cloud assembly `assemblyDir` that is published as `objectKey`. */
export function assetFile(assemblyDir: string, objectKey: string): string {
  for (const name of readdirSync(assemblyDir).filter((n) => n.endsWith('.assets.json'))) {
    const manifest = JSON.parse(readFileSync(join(assemblyDir, name), 'utf8')) as AssetManifest;
    for (const file of Object.values(manifest.files ?? {})) {
      if (Object.values(file.destinations).some((d) => d.objectKey === objectKey)) return join(assemblyDir, file.source.path);
    }
  }
  throw new Error(`no file asset published as ${objectKey} in ${assemblyDir}`);
}

export function deployedConfig(template: Template, assemblyDir: string): DeployedConfig {
  const found = resourcesOf(template, CONFIG_RESOURCE_TYPE);
  if (found.length !== 1) throw new Error(`expected one ${CONFIG_RESOURCE_TYPE}, found ${found.length}`);
  const [logicalId, resource] = found[0]!;
  const properties = resource.Properties;
  const staticText = readFileSync(assetFile(assemblyDir, properties['StaticKey']), 'utf8');
  const doc = { store: JSON.parse(flat(properties['Store'])), publish: JSON.parse(flat(properties['Publish'])), ...JSON.parse(staticText) };
  return { logicalId, properties, staticText, doc };
}

/**
 * The import rule of docs/architecture.md, checked on every source file: a module imports only the modules below
 * it. A new module, or a new dependency between modules, is a decision: make it here and in the document.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

/** lib/<module>, or a top-level lib file, or functions / cdk. */
function moduleOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'lib') return parts.length > 2 ? `lib/${parts[1]}` : file;
  return parts[0]!;
}

const BASE = ['lib/coded-error.ts', 'lib/error-codes.ts', 'lib/redact.ts'];

/** What each module may import, besides itself. Lower layers first. */
export const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  'lib/coded-error.ts': [],
  'lib/error-codes.ts': ['lib/coded-error.ts', 'lib/redact.ts'],
  // The secrets this process resolved, taken out of any text shown or stored: below everything that shows text.
  'lib/redact.ts': [],
  'lib/format-bytes.ts': [],
  'lib/write-error-docs.ts': BASE,
  'lib/document': BASE,
  'lib/pop3': BASE,
  // The durable-file helpers raise the store's errors (lib/store/types.ts) and nothing else of it.
  'lib/fs': [...BASE, 'lib/store/types.ts'],
  // A bundle shim stands in for a package by its name, so it reaches the real module by path (shims/libbase64.ts).
  'lib/parse': [...BASE, 'lib/document', 'node_modules/libbase64/dist/cjs/libbase64.js'],
  'lib/store': [...BASE, 'lib/fs', 'lib/document'],
  // The config describes POP3 options, store prefixes and processor kinds: it reads their facts, not their code.
  'lib/config': [...BASE, 'lib/pop3/types.ts', 'lib/store/keys.ts', 'lib/store/layout.ts', 'lib/processors/registry.ts', 'lib/oauth2'],
  'lib/oauth2': [...BASE, 'lib/fs', 'lib/config'],
  'lib/publish': [...BASE, 'lib/document', 'lib/store', 'lib/fs', 'lib/config'],
  'lib/processors': [...BASE, 'lib/document', 'lib/parse', 'lib/store', 'lib/publish', 'lib/fs', 'lib/config'],
  'lib/ingest': [...BASE, 'lib/pop3', 'lib/parse', 'lib/document', 'lib/store', 'lib/publish', 'lib/config', 'lib/oauth2'],
  'lib/search': [...BASE, 'lib/document', 'lib/parse', 'lib/store', 'lib/fs', 'lib/config', 'lib/publish'],
  'lib/export': [...BASE, 'lib/document', 'lib/store', 'lib/search', 'lib/config', 'lib/fs'],
  // The application: from a config to running mailboxes, for the CLI and the Lambda poller alike.
  'lib/app': [
    ...BASE,
    'lib/pop3',
    'lib/parse',
    'lib/document',
    'lib/store',
    'lib/fs',
    'lib/publish',
    'lib/processors',
    'lib/ingest',
    'lib/config',
    'lib/oauth2',
    'lib/search',
  ],
  'lib/presets': [...BASE, 'lib/config'],
  'lib/serve': [
    ...BASE,
    'lib/format-bytes.ts',
    'lib/document',
    'lib/parse',
    'lib/store',
    'lib/fs',
    'lib/search',
    'lib/export',
    'lib/app',
    'lib/config',
    'lib/processors',
    'lib/publish',
    'lib/ingest',
  ],
  'lib/cli': ['*lib'],
  // Lambda handlers: thin, over lib/; never the CLI or the local web app.
  functions: [
    ...BASE,
    'lib/app',
    'lib/ingest',
    'lib/config',
    'lib/document',
    'lib/parse',
    'lib/store',
    'lib/publish',
    'lib/processors',
    'lib/pop3',
    'lib/oauth2',
    'lib/fs',
  ],
  // The CDK app reads facts of lib/ (schema, layout, processor registry) and bundles functions/ by path only.
  // The bundles' module aliases (lib/parse/shims/aliases.mjs) are a fact of the parser, shared with the CLI's build.
  cdk: [
    ...BASE,
    'lib/config',
    'lib/store/layout.ts',
    'lib/store/keys.ts',
    'lib/processors/registry.ts',
    'lib/document',
    'lib/parse/shims/aliases.mjs',
  ],
};

function allowed(from: string, target: string): boolean {
  const rules = ALLOWED[from] ?? [];
  const targetModule = moduleOf(target);
  return rules.some((r) => r === targetModule || r === target || (r === '*lib' && target.startsWith('lib/')));
}

interface Violation {
  readonly file: string;
  readonly imports: string;
}

function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const specs = [...text.matchAll(/(?:from\s*|import\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)].map((m) => m[1]!);
  return specs.map((s) => relative(ROOT, normalize(join(ROOT, dirname(file), s))));
}

function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', 'lib', 'functions', 'cdk'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => /\.(ts|mts|mjs)$/.test(f));
}

describe('the import rule (docs/architecture.md)', () => {
  const files = sourceFiles();

  it('knows every module', () => {
    const unknown = [...new Set(files.map(moduleOf))].filter((m) => !(m in ALLOWED));
    assert.deepEqual(unknown, [], 'a new module: give it its place in ALLOWED here and in docs/architecture.md');
  });

  it('has every module import only what is below it', () => {
    const violations: Violation[] = [];
    for (const file of files) {
      const from = moduleOf(file);
      for (const target of importsOf(file)) {
        if (moduleOf(target) === from) continue;
        if (!allowed(from, target)) violations.push({ file, imports: target });
      }
    }
    assert.deepEqual(violations, []);
  });

  it('catches a violation (the check itself works)', () => {
    assert.equal(allowed('lib/store', 'lib/ingest/pipeline.ts'), false);
    assert.equal(allowed('lib/document', 'lib/store/types.ts'), false);
    assert.equal(allowed('functions', 'lib/cli/main.ts'), false);
    assert.equal(allowed('lib/ingest', 'lib/store/types.ts'), true);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig, parseConfigText } from '../../lib/config/index.ts';
import { findJsonSyntaxProblem } from '../../lib/config/json-syntax.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const base = { store: { type: 'fs', dir: './data' } };
const mailbox = (over: Record<string, unknown> = {}) => ({ id: 'support', host: 'pop.example.jp', user: 'u', password: 'p', ...over });

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  try {
    parseConfig(input, { baseDir: '/cfg' });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'ECONFIG');
    assert.equal(err.retryable, false);
    return err.issues.map((i) => ({ ...i }));
  }
  assert.fail('expected the config to be rejected');
}
const paths = (input: unknown) => issuesOf(input).map((i) => i.path);

describe('parseConfig: valid files', () => {
  it('applies defaults and resolves relative paths against the config folder', async () => {
    const cfg = await loadConfig(join(FIXTURES, 'minimal.json'));
    assert.deepEqual(cfg.store, { type: 'fs', dir: join(FIXTURES, 'data') });
    assert.deepEqual(cfg.publish, { type: 'local' });
    assert.equal(cfg.concurrency, 4);
    assert.deepEqual(cfg.defaults, { retention: 'keep', maxMessageBytes: 104857600, deleteOversized: false });
    assert.deepEqual(cfg.mailboxes, [
      {
        id: 'support',
        host: 'pop.example.jp',
        port: 995,
        tls: 'implicit',
        ca: join(FIXTURES, 'certs/extra-ca.pem'),
        user: 'support@example.jp',
        password: { env: 'SUPPORT_POP3_PASSWORD' },
        auth: 'auto',
        allowInsecureAuth: false,
        pipelining: true,
        retention: 'keep',
        maxMessageBytes: 104857600,
        deleteOversized: false,
        acceptUidlReset: false,
        maxSessionSeconds: 900,
        enabled: true,
      },
    ]);
  });

  it('reads the S3 store, SQS targets, defaults and every mailbox option', async () => {
    const cfg = await loadConfig(join(FIXTURES, 'full.json'));
    assert.deepEqual(cfg.store, {
      type: 's3',
      bucket: 'mail-archive.example',
      prefix: 'tenant-a',
      region: 'ap-northeast-1',
      endpoint: 'http://127.0.0.1:4566',
      forcePathStyle: true,
      kmsKeyId: 'alias/mail-archive',
      sse: 'aws:kms',
    });
    assert.equal(cfg.publish.type, 'sqs');
    assert.deepEqual(cfg.publish.type === 'sqs' ? cfg.publish.targets.map((t) => t.name) : [], ['tickets', 'archive-index']);
    assert.deepEqual(cfg.publish.type === 'sqs' ? cfg.publish.targets[0]!.filter : null, {
      mailbox: ['support'],
      to: ['@support.example.jp', 'a@b.jp'],
      hasAttachments: true,
      autoReply: false,
      bounce: false,
      list: false,
    });
    assert.equal(cfg.concurrency, 8);
    const [support, sales, legacy] = cfg.mailboxes;
    // The mailbox's own values win over defaults; the rest come from defaults.
    assert.equal(support!.retention, 'delete');
    assert.equal(support!.maxMessagesPerRun, 1000);
    assert.equal(support!.maxMessageBytes, 52428800);
    assert.equal(support!.pipelining, false);
    assert.deepEqual(support!.timeouts, { connectMs: 5000 });
    assert.deepEqual(sales!.retention, { deleteAfterDays: 30 });
    assert.equal(sales!.maxMessagesPerRun, 10000);
    assert.equal(sales!.port, 110, 'starttls defaults to port 110');
    assert.equal(legacy!.port, 110, 'tls none defaults to port 110');
    assert.equal(legacy!.enabled, false);
  });

  it('keeps inline PEM text and absolute ca paths as they are', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n';
    const cfg = parseConfig(
      { ...base, mailboxes: [mailbox({ ca: pem }), mailbox({ id: 'b', ca: '/etc/ssl/x.pem' })] },
      { baseDir: '/cfg' },
    );
    assert.equal(cfg.mailboxes[0]!.ca, pem);
    assert.equal(cfg.mailboxes[1]!.ca, '/etc/ssl/x.pem');
  });

  it('allows tls "none" when allowInsecureAuth is true', () => {
    const cfg = parseConfig({ ...base, mailboxes: [mailbox({ tls: 'none', allowInsecureAuth: true })] }, { baseDir: '/' });
    assert.equal(cfg.mailboxes[0]!.tls, 'none');
  });

  it('accepts mailbox ids that are safe path and key segments', () => {
    for (const id of ['a', 'support', 'Sales.JP', 'x_y-z.1', '0', 'a'.repeat(64)]) {
      assert.equal(parseConfig({ ...base, mailboxes: [mailbox({ id })] }, { baseDir: '/' }).mailboxes[0]!.id, id);
    }
  });
});

describe('parseConfig: every problem reported at once, with its path', () => {
  it('reports all problems of a file in one error, one per line', async () => {
    await assert.rejects(loadConfig(join(FIXTURES, 'many-problems.json')), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => i.path),
        [
          'concurency',
          'mailboxes[0]',
          'mailboxes[0].pasword',
          'mailboxes[0].tls',
          'mailboxes[1].id',
          'mailboxes[1].port',
          'mailboxes[1].retention',
          'store.dir',
        ],
      );
      const lines = err.message.split('\n');
      assert.match(lines[0]!, /invalid configuration in .*many-problems\.json \(8 problems\):/);
      assert.equal(lines.length, 9);
      assert.match(err.message, /concurency: unknown key \(did you mean "concurrency"\?\)/);
      assert.match(err.message, /mailboxes\[0\]\.pasword: unknown key \(did you mean "password"\?\)/);
      assert.match(err.message, /mailboxes\[0\]: mailbox "support": "password", "accessToken" or "oauth2" is required/);
      assert.match(err.message, /mailboxes\[0\]\.tls: mailbox "support": tls "none" .*"allowInsecureAuth": true/);
      assert.match(err.message, /mailboxes\[1\]\.id: duplicate mailbox id "support"/);
      assert.match(err.message, /mailboxes\[1\]\.port: must be at most 65535/);
      assert.match(err.message, /mailboxes\[1\]\.retention: must be "keep", "delete" or \{ "deleteAfterDays": N \}/);
      assert.match(err.message, /store\.dir: is required/);
      return true;
    });
  });

  it('rejects unknown keys everywhere (strict), listing the allowed ones when no close match exists', () => {
    const issues = issuesOf({
      ...base,
      mailboxes: [mailbox({ timeouts: { connect: 1 } })],
      defaults: { foo: 1 },
      publish: { type: 'sqs', targets: [{ name: 't', queueUrl: 'https://q.example/1', filter: { subject: 'x' } }] },
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['defaults.foo', 'mailboxes[0].timeouts.connect', 'publish.targets[0].filter.subject'],
    );
    assert.match(
      issues[0]!.message,
      /unknown key \(allowed here: retention, maxMessageBytes, maxMessagesPerRun, deleteOversized, maxSessionSeconds, /,
    );
    assert.match(issues[1]!.message, /did you mean "connectMs"/);
  });

  it('rejects a wrong store or publish type', () => {
    assert.deepEqual(issuesOf({ store: { type: 'ftp' }, mailboxes: [mailbox()] }), [
      { path: 'store.type', message: '"type" must be "fs" or "s3"' },
    ]);
    assert.deepEqual(paths({ ...base, publish: { type: 'sns' }, mailboxes: [mailbox()] }), ['publish.type']);
    assert.deepEqual(paths({ mailboxes: [mailbox()] }), ['store']);
  });

  it('validates S3 and SQS fields', () => {
    const issues = issuesOf({
      store: { type: 's3', bucket: 'Bad_Bucket', prefix: 'a//b', endpoint: 'not a url', kmsKeyId: 'k', sse: 'AES256' },
      publish: { type: 'sqs', targets: [] },
      mailboxes: [mailbox()],
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      ['publish.targets', 'store.bucket', 'store.endpoint', 'store.prefix', 'store.sse'],
    );
  });

  it('validates target names, queue URLs, filter addresses and filter mailboxes', () => {
    const issues = issuesOf({
      ...base,
      mailboxes: [mailbox()],
      publish: {
        type: 'sqs',
        targets: [
          {
            name: 'tickets',
            queueUrl: 'https://sqs.example/1/q',
            filter: { to: ['support', '@example.jp', 'a@b.jp', '@nodot'], mailbox: ['support', 'sales'] },
          },
          { name: 'tickets', queueUrl: 'ftp://q' },
          { name: 'has space', queueUrl: 'https://q.example/2' },
        ],
      },
    });
    assert.deepEqual(
      issues.map((i) => i.path),
      [
        'publish.targets[0].filter.mailbox[1]',
        'publish.targets[0].filter.to[0]',
        'publish.targets[0].filter.to[3]',
        'publish.targets[1].name',
        'publish.targets[1].queueUrl',
        'publish.targets[2].name',
      ],
    );
    assert.match(issues[0]!.message, /no mailbox with id "sales" is configured/);
    assert.match(issues[3]!.message, /duplicate target name "tickets"/);
  });

  it('refuses mailbox ids that could escape a folder or an S3 key, and duplicates ignoring case', () => {
    for (const id of ['', '.', '..', '../x', 'a/b', '-lead', '.hidden', 'a b', 'ü', 'a'.repeat(65), 'a\\b']) {
      assert.deepEqual(paths({ ...base, mailboxes: [mailbox({ id })] }), ['mailboxes[0].id'], JSON.stringify(id));
    }
    const issues = issuesOf({ ...base, mailboxes: [mailbox(), mailbox({ id: 'Support' })] });
    assert.deepEqual(issues, [
      { path: 'mailboxes[1].id', message: 'duplicate mailbox id "Support" (already used by mailboxes[0]; ids are compared ignoring case)' },
    ]);
  });

  it('requires credentials that fit the auth mechanism', () => {
    const m = (over: Record<string, unknown>) => ({ id: 'm', host: 'h', user: 'u', ...over });
    assert.deepEqual(paths({ ...base, mailboxes: [m({})] }), ['mailboxes[0]']);
    assert.deepEqual(paths({ ...base, mailboxes: [m({ password: 'p', auth: 'xoauth2' })] }), ['mailboxes[0].accessToken']);
    assert.deepEqual(paths({ ...base, mailboxes: [m({ accessToken: 't', auth: 'plain' })] }), ['mailboxes[0].password']);
    assert.deepEqual(paths({ ...base, mailboxes: [m({ password: 'p', auth: 'apop', tls: 'none', allowInsecureAuth: true })] }), [
      'mailboxes[0].auth',
    ]);
  });

  it('explains what a secret reference may be', () => {
    const issues = issuesOf({
      ...base,
      mailboxes: [
        mailbox({ password: '' }),
        mailbox({ id: 'b', password: { env: 'HAS SPACE' } }),
        mailbox({ id: 'c', password: { env: 'A', secretId: 'b' } }),
        mailbox({ id: 'd', password: 42 }),
        mailbox({ id: 'e', password: { vault: 'x' } }),
      ],
    });
    assert.deepEqual(issues, [
      { path: 'mailboxes[0].password', message: 'must not be empty' },
      { path: 'mailboxes[1].password.env', message: 'must be an environment variable name such as "SUPPORT_POP3_PASSWORD"' },
      { path: 'mailboxes[2].password', message: 'use either "env" or "secretId", not both' },
      { path: 'mailboxes[3].password', message: 'must be a string, { "env": "VARIABLE" } or { "secretId": "name-or-arn" }' },
      { path: 'mailboxes[4].password', message: 'must be a string, { "env": "VARIABLE" } or { "secretId": "name-or-arn" }' },
    ]);
  });

  it('checks hosts, ports, ranges and enums with readable messages', () => {
    const issues = issuesOf({
      ...base,
      concurrency: 65,
      mailboxes: [
        mailbox({
          host: 'pop3s://pop.example.jp',
          port: 0,
          tls: 'ssl',
          auth: 'cram-md5',
          maxMessageBytes: 1.5,
          retention: { deleteAfterDays: -1 },
        }),
        mailbox({ id: 'b', host: 'pop.example.jp:995' }),
      ],
    });
    assert.deepEqual(issues, [
      { path: 'concurrency', message: 'must be at most 64' },
      { path: 'mailboxes[0].auth', message: 'must be "auto", "user", "plain", "xoauth2", "oauthbearer" or "apop"' },
      { path: 'mailboxes[0].host', message: 'must be a host name or IP address, without scheme or user' },
      { path: 'mailboxes[0].maxMessageBytes', message: 'must be a whole number' },
      { path: 'mailboxes[0].port', message: 'must be at least 1' },
      { path: 'mailboxes[0].retention.deleteAfterDays', message: 'must be at least 0' },
      { path: 'mailboxes[0].tls', message: 'must be "implicit", "starttls" or "none"' },
      { path: 'mailboxes[1].host', message: 'must not include the port: use "port"' },
    ]);
    assert.deepEqual(parseConfig({ ...base, mailboxes: [mailbox({ host: '::1' })] }, { baseDir: '/' }).mailboxes[0]!.host, '::1');
  });

  it('requires at least one mailbox and an object at the top', () => {
    assert.deepEqual(issuesOf({ ...base, mailboxes: [] }), [{ path: 'mailboxes', message: 'at least one mailbox is required' }]);
    assert.deepEqual(issuesOf([]), [{ path: '(root)', message: 'must be an object' }]);
    assert.deepEqual(issuesOf(null), [{ path: '(root)', message: 'must be an object' }]);
  });
});

describe('loading files', () => {
  it('reports JSON syntax errors with line and column', async () => {
    await assert.rejects(loadConfig(join(FIXTURES, 'broken-syntax.json')), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.issues.length, 1);
      assert.equal(err.issues[0]!.path, '(file)');
      assert.match(err.issues[0]!.message, /^not valid JSON at line 4, column 49: /);
      return true;
    });
    assert.throws(() => parseConfigText('', { baseDir: '/' }), /line 1, column 1: the file ends too early/);
    assert.throws(() => parseConfigText('{\n "a": 1,\n', { baseDir: '/' }), /line 3, column 1/);
  });

  for (const [why, text, where, what] of [
    ['an unquoted password', '{\n  "password": hunter2-canary\n}', 'line 2, column 15', /a value was expected here/],
    [
      'a missing comma after it',
      '{\n  "password": "hunter2-canary"\n  "user": "u"\n}',
      'line 3, column 3',
      /"," or "}" was expected after the property value/,
    ],
    ['a missing closing quote', '{ "password": "hunter2-canary }', 'line 1, column 32', /string is not closed/],
    ['a tab inside it', '{ "password": "hunter2\t-canary" }', 'line 1, column 23', /control character/],
    ['a stray backslash', '{ "password": "hunter2\\q-canary" }', 'line 1, column 23', /invalid escape/],
    ['a trailing comma', '{ "password": "hunter2-canary", }', 'line 1, column 33', /trailing comma/],
    ['text after the end', '{ "password": "x" } hunter2-canary', 'line 1, column 21', /after the end/],
  ] as const) {
    it(`a syntax error beside a literal password (${why}) names the place, never the text around it`, () => {
      assert.throws(
        () => parseConfigText(text, { baseDir: '/', source: 'mail.json' }),
        (err: unknown) => {
          assert.ok(err instanceof ConfigError);
          const shown = `${err.message}\n${err.issues.map((i) => i.message).join('\n')}\n${String((err as { cause?: unknown }).cause ?? '')}`;
          assert.doesNotMatch(shown, /hunter|canary|2-c/);
          assert.ok(err.issues[0]!.message.includes(where), err.issues[0]!.message);
          assert.match(err.issues[0]!.message, what);
          return true;
        },
      );
    });
  }

  it('finds the first syntax error at any nesting depth, and accepts every valid JSON text', () => {
    assert.equal(findJsonSyntaxProblem(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), null);
    assert.equal(findJsonSyntaxProblem(`${'['.repeat(5)}1,]]]]]`)?.offset, 7);
    for (const valid of ['0', '-1.5e+3', '"\\u00e9\\n"', '{"a":[true,false,null,{}],"b":[]}', ' {} ', '"件名"']) {
      JSON.parse(valid);
      assert.equal(findJsonSyntaxProblem(valid), null, valid);
    }
    for (const invalid of ['01', '1.', '-', '{"a"}', '[1 2]', 'tru', '{,}', '"\\x"', "'a'"]) {
      assert.throws(() => JSON.parse(invalid));
      assert.notEqual(findJsonSyntaxProblem(invalid), null, invalid);
    }
  });

  it('accepts a UTF-8 BOM', () => {
    const cfg = parseConfigText(`\ufeff${JSON.stringify({ ...base, mailboxes: [mailbox()] })}`, { baseDir: '/x' });
    assert.equal(cfg.store.type === 'fs' && cfg.store.dir, '/x/data');
  });

  it('reports a missing file as a ConfigError naming it', async () => {
    await assert.rejects(
      loadConfig(join(FIXTURES, 'nope.json')),
      (err: unknown) => err instanceof ConfigError && /cannot read .*nope\.json: no such file/.test(err.message),
    );
  });
});

describe('queue URLs', () => {
  const sqs = (queueUrl: string) => ({
    store: { type: 's3', bucket: 'mail-archive' },
    mailboxes: [mailbox()],
    publish: { type: 'sqs', targets: [{ name: 't', queueUrl }] },
  });
  it('accepts AWS queue URLs and the host names local SQS servers use, which a WHATWG URL parser refuses', () => {
    for (const url of [
      'https://sqs.ap-northeast-1.amazonaws.com/123456789012/tickets',
      'http://sqs.us-east-1.127.0.0.1:4566/000000000000/tickets',
    ]) {
      const config = parseConfig(sqs(url), { baseDir: '/cfg' });
      assert.equal(config.publish.type === 'sqs' && config.publish.targets[0]?.queueUrl, url);
    }
  });
  it('rejects anything that is not an http(s) URL', () => {
    for (const bad of ['ftp://example.com/q', 'sqs.us-east-1.amazonaws.com/1/q', 'https://', 'https://host with space/q']) {
      assert.deepEqual(paths(sqs(bad)), ['publish.targets[0].queueUrl'], bad);
    }
  });
});

describe('local processors', () => {
  const local = (processors: unknown, store: unknown = { type: 'fs', dir: './data' }) => ({
    store,
    mailboxes: [mailbox()],
    publish: { type: 'local', processors },
  });
  it('accepts the shipped kinds with filters', () => {
    const config = parseConfig(
      local([
        { name: 'tickets', kind: 'ticket-intake', filter: { autoReply: false, mailbox: ['support'] } },
        { name: 'index', kind: 'archive-index' },
      ]),
      { baseDir: '/cfg' },
    );
    assert.equal(config.publish.type === 'local' && config.publish.processors?.length, 2);
  });
  it('reports unknown kinds, duplicate and reserved names, unknown mailboxes and an S3 store, all at once', () => {
    assert.deepEqual(
      paths(
        local([
          { name: 'a', kind: 'spam-filter' },
          { name: 'events', kind: 'archive-index' },
          { name: 'b', kind: 'archive-index' },
          { name: 'b', kind: 'archive-index', filter: { mailbox: ['nope'] } },
        ]),
      ).sort(),
      [
        'publish.processors[0].kind',
        'publish.processors[1].name',
        'publish.processors[3].filter.mailbox[0]',
        'publish.processors[3].name',
      ].sort(),
    );
    assert.deepEqual(paths(local([{ name: 'x', kind: 'archive-index' }], { type: 's3', bucket: 'mail-archive' })), ['publish.processors']);
  });
});

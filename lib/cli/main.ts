import { Command, CommanderError, Option } from 'commander';
import { CodedError } from '../coded-error.ts';
import { helpAfter } from './help.ts';
import { packageVersion } from './paths.ts';
import { redact } from '../redact.ts';
import { printableLines } from './format.ts';

/** Exit codes: 0 every mailbox succeeded, 1 a mailbox failed (the others still ran), 2 usage or configuration error. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

// Each command's module is imported by its action, when that command runs: --version, --help and a command load
// only what they use (the mail parser, the stores, the AWS SDK, SQLite, the sanitizer are not free to load).

function isConfigProblem(err: unknown): boolean {
  return err instanceof CodedError && err.failureClass === 'config';
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const program = new Command('mail-ingest')
    .description('Pull mail out of POP3 mailboxes into an archive, and fan its metadata out to processors.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    .exitOverride();
  const config = new Option('-c, --config <file>', 'configuration file (JSON)').makeOptionMandatory();
  const logFormat = (): Option =>
    new Option('--log-format <format>', 'log lines on stderr: text (local time) or json (UTC), one per line')
      .choices(['text', 'json'])
      .default('text');

  program
    .command('run')
    .description('ingest new mail from every configured mailbox, once (or --every interval)')
    .addOption(config)
    .option('-m, --mailbox <id...>', 'only these mailboxes')
    .option('--every <interval>', 'keep polling, e.g. 30s, 5m, 1h')
    .option('--json', 'print each run as one JSON object on one line (JSON Lines) on stdout')
    .addOption(logFormat())
    .option('--accept-uidl-reset', 'ingest even if the server seems to have renumbered every UIDL')
    .option('-v, --verbose', 'log every step (never a password or message content)')
    .addHelpText('after', helpAfter('run'))
    .action(async (o) => setExit(await (await import('./commands/run.ts')).runCommand(o)));
  program
    .command('check')
    .description('connect and log in to each mailbox; report TLS, capabilities and message count; change nothing')
    .addOption(config)
    .option('-m, --mailbox <id...>', 'only these mailboxes')
    .option(
      '--every <interval>',
      "how often the mailboxes are polled (run --every, cron, the deployment's schedule): warns when the server's LOGIN-DELAY is longer",
    )
    .option('--json', 'print the report as one JSON object on one line')
    .addOption(logFormat())
    .addHelpText('after', helpAfter('check'))
    .action(async (o) => setExit(await (await import('./commands/check.ts')).checkCommand(o)));
  program
    .command('status')
    .description('what the state holds per mailbox: ingested messages, last run, last error')
    .addOption(config)
    .option('--json', 'print as one JSON object on one line')
    .addHelpText('after', helpAfter('status'))
    .action(async (o) => setExit(await (await import('./commands/status.ts')).statusCommand(o)));
  program
    .command('replay')
    .description(
      'publish metadata again from the archive, without touching any mailbox (same ids; a FIFO queue drops ids it saw in the last 5 minutes)',
    )
    .addOption(config)
    .option('-m, --mailbox <id>', 'only this mailbox')
    .option('--since <date>', 'only messages filed on or after this day (YYYY-MM-DD)')
    .option('--target <name>', 'only this publish target')
    .option('--json', 'print the summary as one JSON object on one line')
    .addHelpText('after', helpAfter('replay'))
    .action(async (o) => setExit(await (await import('./commands/replay.ts')).replayCommand(o)));
  program
    .command('init')
    .description('write a first configuration from a provider preset (asks on a terminal), then check it')
    .option(
      '--preset <id>',
      'the provider: ocn, biglobe, so-net, nifty, plala, xserver, sakura, kagoya, onamae, microsoft365, gmail, generic',
    )
    .option('--address <address>', 'the mail address (gives the user and the host where the preset derives them)')
    .option('--user <login>', 'what the server expects as user name, when not derived from --address (e.g. a KAGOYA account name)')
    .option('--host <host>', 'the POP3 server, when the preset has none or to override it')
    .option('--port <port>', "default the preset's (995 for POP3S)")
    .addOption(new Option('--tls <mode>', "default the preset's").choices(['implicit', 'starttls']))
    .option('--ca <file>', 'an extra CA certificate (PEM) to trust, for a private CA')
    .option('--servername <name>', 'the name to verify the certificate against, when it is not the host')
    .option('--id <id>', 'the mailbox id (default: the address before @)')
    .option('--password-env <name>', 'the environment variable holding the password')
    .option('--oauth', 'Gmail: sign in with OAuth 2 instead of an app password (Microsoft 365 always does)')
    .option('--tenant <id|domain>', 'Microsoft 365: the Directory (tenant) ID, or a domain such as contoso.onmicrosoft.com')
    .option('--client-id <id>', "OAuth 2: the app registration's (Microsoft) or Desktop OAuth client's (Google) client id")
    .option(
      '--client-secret-env <name>',
      'OAuth 2: the environment variable holding the client secret (Google: default MAIL_INGEST_<ID>_CLIENT_SECRET)',
    )
    .option('--store <dir|s3://bucket/prefix>', 'where the archive goes (default ./data, relative to the config file)')
    .option('--retention <keep|delete|Nd>', 'what to do with mail on the server once archived (default keep)')
    .option('--out <file>', 'the config file to write (default mail-ingest.json)')
    .option('--force', 'replace the file if it exists')
    .option('--no-check', 'do not run check after writing')
    .option('--interactive', 'ask for what is missing even when not on a terminal (answers from stdin)')
    .option('--list-presets', 'list the presets with their host, port, login form and whether they were confirmed')
    .addHelpText('after', helpAfter('init'))
    .action(async (o) => setExit(await (await import('./commands/init.ts')).initCommand(o)));
  program
    .command('auth')
    .description(
      'sign a mailbox in to Microsoft 365, Google or another OAuth 2 provider once, and store its refresh token where the config says',
    )
    .addOption(config)
    .requiredOption('-m, --mailbox <id>', 'the mailbox to sign in')
    .option('--browser', "sign in with a browser on this machine (Google's default: its device sign-in has no Gmail scope)")
    .option('--device', 'sign in with a code on any device (the default for Microsoft and generic)')
    .option('--no-check', 'do not log in to POP3 afterwards to test the token')
    .option('--json', 'print the result as one JSON object on one line (the URL and code go to stderr)')
    .addHelpText('after', helpAfter('auth'))
    .action(async (o) => setExit(await (await import('./commands/auth.ts')).authCommand(o)));
  program
    .command('verify')
    .description('re-read the archive and check every raw message against the state and the metadata documents; change nothing')
    .addOption(config)
    .option('-m, --mailbox <id...>', 'only these mailboxes')
    .option('--json', 'print the report as one JSON object on one line')
    .addHelpText('after', helpAfter('verify'))
    .action(async (o) => setExit(await (await import('./commands/verify.ts')).verifyCommand(o)));
  program
    .command('serve')
    .description("a local web application to search, read and export the archive, and see each mailbox's health")
    .addOption(config)
    .option('--host <address>', 'address to listen on (another than loopback is reachable from the network)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', '8025')
    .option('--index <file>', 'search index file (default: search.sqlite beside the fs store, or in ~/.cache for S3)')
    .option('--refresh <interval>', 'how often to look for new mail in the archive', '30s')
    .addHelpText('after', helpAfter('serve'))
    .action(async (o) => setExit(await (await import('./commands/serve.ts')).serveCommand(o)));
  program
    .command('index')
    .description('bring the search index up to date with the archive, or --rebuild it from the archive')
    .addOption(config)
    .option('--rebuild', "recreate the index from the archive's metadata documents")
    .option('--index <file>', 'search index file')
    .option('--json', 'print the summary as one JSON object on one line')
    .addHelpText('after', helpAfter('index'))
    .action(async (o) => setExit(await (await import('./commands/index.ts')).indexCommand(o)));
  program
    .command('export')
    .description('write the messages a search selects to an mbox (mboxrd) or a zip of .eml files, with a manifest')
    .addOption(config)
    .requiredOption('-o, --out <file>', 'the export file to write (must not exist)')
    .requiredOption('--format <format>', 'mbox or eml-zip')
    .option('-m, --mailbox <id>', 'only this mailbox')
    .option('--since <date>', 'only messages dated on or after this day (YYYY-MM-DD)')
    .option('--until <date>', 'only messages dated on or before this day (YYYY-MM-DD)')
    .option('-q, --query <text>', 'free-text search, as on the Search page')
    .option('--index <file>', 'search index file')
    .option('--json', 'print the summary as one JSON object on one line')
    .addHelpText('after', helpAfter('export'))
    .action(async (o) => setExit(await (await import('./commands/export.ts')).exportCommand(o)));
  program
    .command('demo')
    .description('run the whole pipeline against a built-in POP3S server with a sample mailbox')
    .option('--dir <dir>', 'where the demo archive goes', 'demo-data')
    .option('--serve', 'keep the demo server up and write a config for it, to try run, check, status and --every on it')
    .option('--port <port>', 'with --serve: the port to listen on (127.0.0.1)', undefined)
    .option('--mail-every <interval>', 'with --serve: how often new mail arrives', '30s')
    .addHelpText('after', helpAfter('demo'))
    .action(async (o) =>
      setExit(
        await (o.serve
          ? (await import('./commands/demo-serve.ts')).demoServeCommand(o)
          : (await import('./commands/demo.ts')).demoCommand(o)),
      ),
    );

  try {
    await program.parseAsync(argv as string[]);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`mail-ingest: ${printableLines(redact((err as Error).message))}\n`);
    return isConfigProblem(err) ? EXIT.usage : EXIT.failed;
  }
  return exitCode;
}

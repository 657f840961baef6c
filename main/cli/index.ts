// The `toklab` command line: scripted runs and the headless study, on the same host services
// as the app. Commands live in main/cli/commands-*.ts; this file parses and dispatches.
import { parseArgs } from 'node:util';
import { COMMANDS } from './commands';
import { UsageError } from './util';

const HELP = `toklab: a lab for discrete image tokenizers and AR generation (latent perturbation, pFID, gFID)

usage: toklab [--home DIR] <command> [options]

${COMMANDS.map((c) => `  ${c.usage.padEnd(58)} ${c.summary}`).join('\n')}

The lab home is --home DIR, else $TOKLAB_HOME, else ~/.toklab.
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { home: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: false,
  });
  const words = positionals.filter((p) => !p.startsWith('-'));
  if (values.help || words.length === 0) {
    process.stdout.write(HELP);
    return words.length === 0 && !values.help ? 2 : 0;
  }
  const cmd = COMMANDS.filter((c) => c.words.every((w, i) => words[i] === w)).sort((a, b) => b.words.length - a.words.length)[0];
  if (!cmd) throw new UsageError(`unknown command "${words.join(' ')}". Run \`toklab --help\` for the list.`);
  const rest = argv.slice(argv.indexOf(cmd.words[cmd.words.length - 1]) + 1).filter((a, i, all) => !(a === '--home' || all[i - 1] === '--home'));
  const parsed = parseArgs({ args: rest, options: { ...cmd.options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
  return cmd.run({ home: typeof values.home === 'string' ? values.home : undefined, opts: parsed.values as Record<string, string | boolean | undefined>, args: parsed.positionals });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`toklab: ${msg}\n`);
    process.exitCode = e instanceof UsageError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
  },
);

'use strict'
// `offload <command>`: dispatches to a command, prints help and version, and turns usage
// mistakes into a message naming the bad word, a hint, and exit code 2.

const { UsageError } = require('../errors')
const { didYouMean } = require('./args')
const usage = require('./usage')
const { parseThumbs, runThumbs } = require('./thumbs')

const EXIT_USAGE = 2
const COMMANDS = {
  thumbs: { parse: parseThumbs, run: runThumbs },
  help: { parse: parseHelp, run: runHelp },
}

function parseHelp(argv) {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true }
  const option = argv.find((word) => word.startsWith('-'))
  if (option !== undefined) throw new UsageError(`unknown option '${option}'`)
  if (argv.length > 1) throw new UsageError(`give at most one command (got ${argv.join(' ')})`)
  if (argv.length === 1 && !Object.hasOwn(COMMANDS, argv[0])) {
    throw new UsageError(`unknown command '${argv[0]}'${didYouMean(argv[0], Object.keys(COMMANDS))}`)
  }
  return { help: false, command: argv[0] }
}

async function runHelp({ command }, _stderr, stdout) {
  stdout.write(command === undefined ? usage.main() : usage.commands[command]())
  return 0
}

/** Runs `offload` with `argv` (without node and the script); resolves with the exit code. */
async function main(argv, { stdout = process.stdout, stderr = process.stderr } = {}) {
  // A closed pipe or terminal must not crash a batch that is still writing thumbnails.
  for (const stream of [stdout, stderr]) stream.on('error', () => {})
  const [first, ...rest] = argv
  if (first === undefined) {
    stderr.write(usage.main())
    return EXIT_USAGE
  }
  if (first === '--help' || first === '-h') {
    stdout.write(usage.main())
    return 0
  }
  if (first === '--version' || first === '-v') {
    stdout.write(`${require('../../package.json').version}\n`)
    return 0
  }
  const name = first
  try {
    if (name.startsWith('-')) throw new UsageError(`unknown option '${name}' (options come after the command)`)
    if (!Object.hasOwn(COMMANDS, name)) {
      throw new UsageError(`unknown command '${name}'${didYouMean(name, Object.keys(COMMANDS))}`)
    }
    const command = COMMANDS[name]
    const settings = command.parse(rest)
    if (settings.help) {
      stdout.write(usage.commands[name]())
      return 0
    }
    return await command.run(settings, stderr, stdout)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    const where = Object.hasOwn(COMMANDS, name) ? `offload ${name}` : 'offload'
    stderr.write(`${where}: ${err.message}\nRun '${where} --help' for usage.\n`)
    return EXIT_USAGE
  }
}

module.exports = { main }

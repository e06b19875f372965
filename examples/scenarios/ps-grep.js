#!/usr/bin/env node
// `ps aux | grep node` as a pipeline.
//
// The version people copy:
//
//   const { exec } = require('child_process')
//   exec(`ps aux | grep ${name}`, (err, stdout) => {
//     if (err) throw err            // grep found nothing: exit code 1, so this throws
//     console.log(stdout)           // and the list includes `grep node` itself
//   })
//
// What goes wrong: the command is a shell string, so a `name` such as
// `node; rm -rf ~` runs `rm` (injection); a name starting with `-` becomes a grep
// option; grep's exit code 1 ("no match") arrives as an error; the output lists
// the grep process itself (hence the folk remedy `grep [n]ode`); and the fork()
// behind exec() stalls the event loop for as long as copying this process's page
// tables takes.
//
// What offload does instead: `pipeline(['ps', 'aux'], ['grep', '--', name])` starts
// both programs without a shell, joined by a kernel pipe (the bytes never pass
// through JavaScript), and `name` is one argument whatever it contains. A failing
// stage is named (`error.stage`), so "grep exited 1" can be told apart from a real
// failure, and each stage's pid is known, so grep's own line can be dropped exactly.
//
//   node examples/scenarios/ps-grep.js [pattern]      (default: node)
'use strict'
const { pipeline } = require('offload')

const GREP_NO_MATCH = 1

/** The processes whose `ps aux` line matches `pattern` (a grep basic regex), grep itself left out. */
async function findProcesses(pattern) {
  let lines, grepPid
  try {
    const { stdout, stages } = await pipeline(['ps', 'aux'], ['grep', '--', pattern])
    lines = stdout.split('\n')
    grepPid = stages[1].pid
  } catch (err) {
    if (err.stage !== 1 || err.exitCode !== GREP_NO_MATCH) throw err
    return []
  }
  return lines.map(parsePsLine).filter((proc) => proc.pid !== grepPid)
}

/** `USER PID %CPU %MEM VSZ RSS TTY STAT START TIME COMMAND...`: the command may hold spaces. */
function parsePsLine(line) {
  const fields = line.trim().split(/\s+/)
  return { user: fields[0], pid: Number(fields[1]), command: fields.slice(10).join(' ') }
}

async function main() {
  const pattern = process.argv[2] ?? 'node'
  const started = process.hrtime.bigint()
  const found = await findProcesses(pattern)
  const ms = (Number(process.hrtime.bigint() - started) / 1e6).toFixed(1)
  console.log(`ps aux | grep -- ${JSON.stringify(pattern)}: ${found.length} process(es) in ${ms} ms, no shell involved`)
  for (const { pid, user, command } of found) console.log(`${String(pid).padStart(8)}  ${user.padEnd(8)}  ${command}`)
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err.message)
    process.exitCode = 1
  })
}

module.exports = { findProcesses }

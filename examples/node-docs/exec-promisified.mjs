// child_process.exec() through util.promisify(): a Promise of { stdout, stderr }; a failure
// rejects with the error, which carries stdout and stderr too.
import util from 'node:util'
import child_process from 'node:child_process'

const exec = util.promisify(child_process.exec)

async function lsExample() {
  const { stdout, stderr } = await exec('ls')
  console.log('stdout:', stdout)
  console.error('stderr:', stderr)
}
await lsExample()

// Added: the rejected case.
try {
  await exec('echo out; echo err >&2; exit 3')
} catch (error) {
  console.log(error.code, JSON.stringify(error.stdout), JSON.stringify(error.stderr))
}

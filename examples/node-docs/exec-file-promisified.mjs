// child_process.execFile() through util.promisify().
import util from 'node:util'
import child_process from 'node:child_process'

const execFile = util.promisify(child_process.execFile)
async function getVersion() {
  const { stdout } = await execFile('node', ['--version'])
  console.log(stdout)
}
await getVersion()

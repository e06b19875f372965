// The examples of exec()'s and spawn()'s shell, env and argv0 handling.
import { exec, spawn } from 'node:child_process'

exec('echo "The \\$HOME variable is $HOME"', { env: { HOME: '/home/example' } }, (error, stdout) => {
  console.log(stdout.trim())
  const child = spawn('sh', ['-c', 'echo "argv0 is $0, HOME is ${HOME-unset}"'], { argv0: 'custom-name', env: {} })
  child.stdout.on('data', (data) => console.log(`${data}`.trim()))
})

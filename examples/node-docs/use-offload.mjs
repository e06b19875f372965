// `node --import ./use-offload.mjs app.mjs`: app.mjs's `import ... from 'node:child_process'`
// (or 'child_process') gets offload/child_process instead, as if its import line had changed.
import { register } from 'node:module'

register('./use-offload-hooks.mjs', import.meta.url)

// An edited import line changes this program only: children forked with process.execArgv
// would otherwise load this hook too.
const at = process.execArgv.findIndex((arg, i) => arg.startsWith('--import') && /use-offload\.mjs$/.test(arg.includes('=') ? arg : process.execArgv[i + 1] ?? ''))
if (at !== -1) process.execArgv.splice(at, process.execArgv[at].includes('=') ? 1 : 2)

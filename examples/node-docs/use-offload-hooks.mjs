// The resolve hook behind use-offload.mjs. offload's own files load node:child_process with
// require(), which this hook does not see, so only the application's imports are switched.
const dropIn = new URL('../../lib/child_process.js', import.meta.url).href

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'node:child_process' || specifier === 'child_process') return { url: dropIn, shortCircuit: true }
  return nextResolve(specifier, context)
}

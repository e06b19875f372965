// BullMQ sandboxed processor: ~2 ms of CPU per job (job.data.ms).
module.exports = async (job) => {
  const end = performance.now() + (job.data.ms ?? 2)
  let n = 0
  while (performance.now() < end) n++
  return n
}

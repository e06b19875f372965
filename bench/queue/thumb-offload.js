// BullMQ sandboxed processor: a 320-pixel JPEG thumbnail with offload's resize.
const { resize } = require('offload')
module.exports = async (job) => (await resize(job.data.path, { width: 320, height: 320, fit: 'inside', format: 'jpeg', quality: 75 })).length

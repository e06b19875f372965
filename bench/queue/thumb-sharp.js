// BullMQ sandboxed processor: a 320-pixel JPEG thumbnail with sharp.
const sharp = require('sharp')
module.exports = async (job) => (await sharp(job.data.path).resize(320, 320, { fit: 'inside' }).jpeg({ quality: 75 }).toBuffer()).length

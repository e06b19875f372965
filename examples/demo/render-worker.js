// A pool worker for the demo: renders one sample photo and encodes it as JPEG with
// offload's own resize (it works in workers too). The JPEG Buffer crosses back to the
// parent as raw bytes on the worker's channel, not as JSON.
'use strict'
const { resize } = require('offload')
const { serve } = require('offload/worker')
const { renderScene } = require('./scene')

serve(({ seed, width, height, quality }) =>
  resize(renderScene({ seed, width, height }), { raw: { width, height, channels: 3 }, format: 'jpeg', quality }),
)

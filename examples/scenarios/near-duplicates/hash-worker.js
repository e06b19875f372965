// A pool worker: the difference hash (dHash) of one image (see dhash.js), for
// the near-duplicates example and for examples/distributed.
'use strict'
const { serve } = require('offload/worker')
const { differenceHash } = require('./dhash')

serve(differenceHash)

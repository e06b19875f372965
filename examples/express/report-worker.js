'use strict'
// The service's Pool worker: report aggregation runs here, in its own process,
// so a 120-month report does not stall the server's event loop.
const { serve } = require('offload/worker')
const { aggregate } = require('./report-data.js')

serve({ aggregate })

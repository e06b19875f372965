'use strict'
// offload's own worker runtime: the same echo, answered by serve().
require('offload/worker').serve((task) => task)

'use strict'
// workerpool: register the methods the pool can exec().
require('workerpool').worker({ echo: (task) => task })

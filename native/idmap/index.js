// Loads the compiled addon (built by node-gyp when npm installs this package).
"use strict";
module.exports = require("./build/Release/idmap.node");

#!/bin/sh
# /usr/bin/causeway: the Causeway command-line tool, installed by the deb and rpm packages. It
# is the same core as the desktop app, run by the app's own Electron binary as plain Node, so
# no separate Node.js is needed. (Paths follow productName/executableName in
# electron-builder.yml; test/integration/packaging-config.test.ts keeps them in step.)
ELECTRON_RUN_AS_NODE=1 exec /opt/Causeway/causeway-app /opt/Causeway/resources/cli/causeway.cjs "$@"

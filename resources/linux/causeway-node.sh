#!/bin/sh
# /usr/bin/causeway of the causeway packages (nfpm): the command-line tool on the
# distribution's Node.js (18 or later; the bundle checks and says so). The desktop app's
# packages install resources/linux/causeway-cli.sh instead, which runs it on the app's Electron.
exec /usr/bin/node /usr/lib/causeway/cli/causeway.cjs "$@"

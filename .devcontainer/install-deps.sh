#!/usr/bin/env bash
# npm ci that runs exactly the dependency install scripts `allowScripts` in package.json approves
# (better-sqlite3's native build, esbuild's binary check), whatever the npm version: npm releases
# that predate allowScripts would otherwise run onnxruntime-node's too, a CUDA download that fails
# offline. Used by the image build and by postCreateCommand. Extra arguments go to npm ci.
set -euo pipefail
npm ci --no-audit --no-fund --ignore-scripts "$@"
approved=$(node -p "Object.entries(require('./package.json').allowScripts ?? {}).filter(([, ok]) => ok).map(([name]) => name).join(' ')")
# shellcheck disable=SC2086 # one package name per word
npm rebuild $approved

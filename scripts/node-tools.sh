# Sourced by the check scripts: project-owned npm tools under .local/node,
# installed once from the npm registry at pinned versions (Node.js 20.19+ or
# 22.12+ and npm from the OS). Today: Redocly's CLI, the OpenAPI linter that
# scripts/contract-check.sh runs on gateway/openapi.json.
NODE_PREFIX="${NODE_PREFIX:-.local/node}"
REDOCLY_CLI_VERSION="2.77.0"
REDOCLY="$NODE_PREFIX/node_modules/.bin/redocly"
# Redocly's CLI reports usage unless told not to; the lint itself is offline.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true REDOCLY_SUPPRESS_NOTIFICATIONS=true
if [ ! -x "$REDOCLY" ] \
  || [ "$(node -p 'require(require("path").resolve(process.argv[1])).version' \
         "$NODE_PREFIX/node_modules/@redocly/cli/package.json" 2>/dev/null)" != "$REDOCLY_CLI_VERSION" ]; then
  if ! command -v npm >/dev/null; then
    echo "node-tools: installing Node.js and npm from the OS packages" >&2
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq nodejs npm >/dev/null; else sudo apt-get install -y -qq nodejs npm >/dev/null; fi
  fi
  mkdir -p "$NODE_PREFIX"
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error \
    --save-exact "@redocly/cli@$REDOCLY_CLI_VERSION" >/dev/null
fi

#!/usr/bin/env bash
# Install the pinned @cloud-copilot/iam-simulate (tests/policy/oracle/package.json) into
# .cache/iam-simulate. The differential tests need it; it is AGPL, so it is installed at test time
# and only ever run as a separate node process, never vendored.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
manifest="$root/tests/policy/oracle/package.json"
dest="$root/.cache/iam-simulate"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "kmslab's tests need node and npm on PATH (the iam-simulate oracle); install Node.js 18 or newer" >&2
  exit 2
fi
want="$(node -p "require('$manifest').dependencies['@cloud-copilot/iam-simulate']")"
have="$(node -p "try { require('$dest/node_modules/@cloud-copilot/iam-simulate/package.json').version } catch (e) { '' }")"
if [ "$want" = "$have" ]; then
  exit 0
fi
mkdir -p "$dest"
cp "$manifest" "$dest/package.json"
cd "$dest"
npm install --no-audit --no-fund --loglevel=error >/dev/null
echo "installed @cloud-copilot/iam-simulate $want into .cache/iam-simulate"

#!/usr/bin/env bash
# Installs what the browser tests need when it is missing: Debian's Chromium and ChromeDriver
# (apt) and playwright-core from the committed package-lock.json (npm ci). Playwright never
# downloads a browser of its own here.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  echo "installing Debian's chromium and chromium-driver"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium chromium-driver >/dev/null
fi
if ! command -v npm >/dev/null; then
  echo "npm is missing: install Node.js 20 or newer (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

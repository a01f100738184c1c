#!/usr/bin/env bash
# System packages the test suite needs beyond Python and Node: Debian's Postgres 15 server (the
# "team server without pgvector" tests run against it), Chromium (browser tests) and the emoji
# and CJK fonts that make the browser tests' screenshots show what users see.
# Installs only what is missing; needs root or sudo.
set -euo pipefail

wanted=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || wanted+=(postgresql-15)
command -v chromium >/dev/null || wanted+=(chromium)
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || wanted+=(fonts-noto-color-emoji)
[ -d /usr/share/fonts/opentype/noto ] || wanted+=(fonts-noto-cjk)
[ ${#wanted[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing system packages: ${wanted[*]}"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null

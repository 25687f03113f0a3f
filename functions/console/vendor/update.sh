#!/usr/bin/env bash
# Fetch the console's vendored libraries again from npm (run by hand, never in CI): the versions
# and the tarballs' integrity are pinned below; the files land here unchanged but for one line
# (hooks.mjs imports "./preact.mjs" instead of the bare name "preact": browsers resolve no bare
# names without an import map, which would be an inline script under the CSP). README.md lists
# the result; tests/functions/console/test_assets.py checks the digests it records.
set -euo pipefail
cd "$(dirname "$0")"
declare -A INTEGRITY=(
  [preact@11.2.0]="sha512-/HfHI/7N84e6GrWBJ3J280z3mLaRJiDcSvj/A+y/4AbLnND/1UlGHe1sR6oYuTGwId0nP7dqDU9OnLxMPZ7xBg=="
  [htm@3.1.1]="sha512-983Vyg8NwUE7JkZ6NmOqpCZ+sh1bKv2iYTlUkzlWmA5JD2acKoxd4KVxbMmxX/85mtfdnDmTFoNKcg5DGAvxNQ=="
  [uplot@1.6.32]="sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw=="
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for spec in "${!INTEGRITY[@]}"; do
  got=$(cd "$work" && npm pack "$spec" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["integrity"])')
  [ "$got" = "${INTEGRITY[$spec]}" ] || { echo "$spec: integrity $got, expected ${INTEGRITY[$spec]}" >&2; exit 1; }
  name=${spec%@*}
  mkdir -p "$work/$name" && tar xzf "$work/$name-${spec#*@}.tgz" -C "$work/$name"
done
cp "$work/preact/package/dist/preact.mjs" preact.mjs
sed 's|from"preact"|from"./preact.mjs"|' "$work/preact/package/hooks/dist/hooks.mjs" >hooks.mjs
cp "$work/htm/package/dist/htm.module.js" htm.mjs
cp "$work/uplot/package/dist/uPlot.iife.min.js" uPlot.iife.min.js
cp "$work/uplot/package/dist/uPlot.min.css" uPlot.min.css
cp "$work/preact/package/LICENSE" LICENSE-preact
cp "$work/htm/package/LICENSE" LICENSE-htm
cp "$work/uplot/package/LICENSE" LICENSE-uplot
sha256sum preact.mjs hooks.mjs htm.mjs uPlot.iife.min.js uPlot.min.css

#!/bin/sh
# Regenerates cases.golden.json with Go's regexp package and fails if it differs from the
# committed one, so a wrong golden cannot hide. Skips (exit 0) without a Go toolchain unless
# REQUIRE_GO=1. UPDATE_GOLDEN=1 writes the regenerated golden into the tree instead.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name="re2 check-goldens"
. "$here/../../helpers/go-env.sh"
"$GO" build -o "$tmp/gen" "$here/gen/main.go"
"$tmp/gen" -cases "$here/cases.json" > "$tmp/cases.golden.json"
if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
  cp "$tmp/cases.golden.json" "$here/cases.golden.json"
  echo "re2 check-goldens: golden rewritten"
  exit 0
fi
if ! diff -u "$here/cases.golden.json" "$tmp/cases.golden.json"; then
  echo "re2 check-goldens: golden differs from Go's regexp; regenerate with UPDATE_GOLDEN=1 $0 and review the diff" >&2
  exit 1
fi
echo "re2 check-goldens: golden matches Go"

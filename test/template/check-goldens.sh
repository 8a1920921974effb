#!/bin/sh
# Regenerates the template golden files with Go's own text/template and fails
# if they differ from the committed ones, so a wrong golden cannot hide.
# Skips (exit 0) when no Go toolchain is installed, unless REQUIRE_GO=1.
# UPDATE_GOLDEN=1 writes the regenerated goldens into the tree instead.
# GO=/path/to/go picks the toolchain. With a Go version other than the one
# recorded in the goldens (e.g. Go 1.23 from bookworm-backports), it instead
# checks that both versions agree on every case they both run, and that the
# newer Go confirms the "expect" of the minGo cases it can run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
name="check-goldens"
. "$here/../helpers/go-env.sh"
"$GO" version
"$GO" build -o "$tmp/gen" "$here/gen/main.go"
if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
  "$tmp/gen" -cases "$here/cases" -out "$here/cases"
  echo "check-goldens: goldens rewritten"
  exit 0
fi
mkdir "$tmp/out"
"$tmp/gen" -cases "$here/cases" -out "$tmp/out"
have=$("$GO" env GOVERSION)
recorded=$(sed -n 's/^  "go": "\(.*\)",$/\1/p' "$here"/cases/*.golden.json | sort -u)
if [ "$have" != "$recorded" ]; then
  echo "check-goldens: goldens were made by $recorded; comparing with $have"
  rc=0
  node "$here/compare-goldens.mjs" "$here/cases" "$tmp/out" || rc=$?
  exit $rc
fi
status=0
for f in "$tmp"/out/*.golden.json; do
  base=$(basename "$f")
  if ! diff -u "$here/cases/$base" "$f"; then
    status=1
  fi
done
for f in "$here"/cases/*.golden.json; do
  [ -e "$f" ] || continue
  base=$(basename "$f")
  if [ ! -e "$tmp/out/$base" ]; then
    echo "check-goldens: stale golden $base (no case file)" >&2
    status=1
  fi
done
if [ $status -ne 0 ]; then
  echo "check-goldens: goldens differ from Go $have; regenerate with UPDATE_GOLDEN=1 $0 and review the diff" >&2
  exit 1
fi
echo "check-goldens: goldens match Go"

# Sourced by the golden checkers (test/template, test/lib/re2) after setting `here` and `name`:
# finds the Go toolchain ($GO, default go) or skips (exit 0) unless REQUIRE_GO=1, makes a temp
# dir $tmp removed on exit, and keeps the build offline and inside $tmp.
GO=${GO:-go}
if ! command -v "$GO" >/dev/null 2>&1; then
  if [ "${REQUIRE_GO:-0}" = 1 ]; then
    echo "$name: go not found" >&2
    exit 1
  fi
  echo "$name: go not found, skipping"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off GO111MODULE=off
export GOCACHE="${GOCACHE:-$tmp/gocache}"

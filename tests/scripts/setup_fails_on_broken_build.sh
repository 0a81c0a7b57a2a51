#!/usr/bin/env bash
# scripts/setup fails when the build fails, and shows the compiler's message: a copy of the
# tree with a syntax error in a header that every file includes (so that the build stops
# at once) must make setup exit non-zero and print the error.
set -euo pipefail
top=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git -C "$top" ls-files -z --cached --others --exclude-standard | tar -C "$top" --null -T - -cf - | tar -C "$work" -xf -
printf 'int slipway_broken_on_purpose = ;\n' >>"$work/common/error.hpp"
if "$work/scripts/setup" >"$work/setup.log" 2>&1; then
  cat "$work/setup.log"
  echo "FAIL: scripts/setup succeeded on a tree that does not compile"
  exit 1
fi
if ! grep -q 'error: .*' "$work/setup.log" || ! grep -q 'slipway_broken_on_purpose' "$work/setup.log"; then
  cat "$work/setup.log"
  echo "FAIL: scripts/setup failed without showing the compiler's error"
  exit 1
fi
if [ -e "$work/build/cli/slipway" ]; then
  echo "FAIL: a slipway binary was left behind"
  exit 1
fi
grep -m 3 'error:' "$work/setup.log"
echo "ok: scripts/setup failed with the compiler's message"

#!/usr/bin/env bash
# Every shell script of the repository passes shellcheck: those under scripts/, bench/,
# buildpacks/, .ci/, tests/scripts/ and tests/tools/host-rootfs, found by their shebang (or a `# shellcheck shell=` line).
set -euo pipefail
top=$1
cd "$top"
scripts=()
while IFS= read -r -d '' file; do
  if head -n 1 "$file" | grep -Eq '^#!.*\b(ba)?sh\b' ||
    grep -q '^# shellcheck shell=' "$file"; then
    scripts+=("$file")
  fi
done < <(git ls-files -z --cached --others --exclude-standard -- scripts bench buildpacks .ci tests/scripts tests/tools/host-rootfs)
echo "shellcheck: ${#scripts[@]} scripts"
shellcheck -x "${scripts[@]}"

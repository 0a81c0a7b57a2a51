#!/usr/bin/env bash
# The built-in buildpacks' Heroku CI scripts (bin/test-compile, bin/test), run by hand as the
# CI runner runs them but outside the sandbox: bin/test-compile BUILD_DIR CACHE_DIR ENV_DIR
# on a copy of the buildpack (it writes its export file), then bin/test BUILD_DIR ENV_DIR
# in an environment like a process's (ENV_DIR's variables, the export files and .profile.d
# sourced, HOME the app). For each language: a passing app exits 0, a failing one non-zero,
# and an app with nothing to test fails saying so. Offline: only the server's toolchains and
# packages (Debian's); a language whose toolchain is missing is skipped, saying so.
#
#   tests/scripts/buildpack_testpacks.sh TOP [LANGUAGE...]
#   (KEEP_WORK=1 keeps the apps and the scripts' logs, and says where)
set -euo pipefail

top=$(cd "$1" && pwd)
shift
languages=("$@")
[ "${#languages[@]}" -gt 0 ] || languages=(nodejs python go ruby cmake)

work=$(mktemp -d)
if [ -n "${KEEP_WORK:-}" ]; then
  trap 'echo "kept: $work"' EXIT
else
  trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fi
passed=0
failed=0
path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

ok() { echo "ok: $*"; passed=$((passed + 1)); }
not_ok() {
  echo "FAIL: $1"
  [ -z "${2:-}" ] || sed 's/^/    | /' "$2"
  failed=$((failed + 1))
}

# The CACHE_DIR of app NAME: the go apps share one (Go's standard library is compiled once).
cache_of() {
  case "$1" in
    go-*) echo "$work/go.cache" ;;
    *) echo "$work/$1.cache" ;;
  esac
}

# new_app NAME [FIXTURE]: an empty app dir (or a copy of tests/fixtures/apps/FIXTURE), with
# a fresh copy of every buildpack beside it and an ENV_DIR holding GREETING=hi.
new_app() {
  app="$work/$1"
  rm -rf "$app" "$work/$1.bp" "$work/$1.env"
  mkdir -p "$app" "$work/$1.env" "$(cache_of "$1")"
  if [ -n "${2:-}" ]; then
    cp -R "$top/tests/fixtures/apps/$2/." "$app/"
  fi
  cp -R "$top/buildpacks" "$work/$1.bp"
  printf hi >"$work/$1.env/GREETING"
}

# step_of SCRIPT NAME BUILDPACK: runs the buildpack's bin/SCRIPT on app NAME as slipway
# would, its output in $work/NAME.SCRIPT.log; returns its status.
step_of() {
  local script=$1 name=$2 bp="$work/$2.bp/$3"
  local app="$work/$name" env="$work/$name.env" log="$work/$name.$script.log"
  # shellcheck disable=SC2016 # the inner scripts' own variables
  if [ "$script" = test-compile ] || [ "$script" = compile ]; then
    env -i HOME="$app" LANG=C.UTF-8 STACK=slipway-24 SOURCE_VERSION=0000000 PATH="$path" \
      bash -c 'cd "$1" && exec "$4/bin/$5" "$1" "$2" "$3"' _ "$app" "$(cache_of "$name")" "$env" "$bp" "$script" \
      >"$log" 2>&1
  else
    # As for a process: ENV_DIR's variables, then the export file and .profile.d.
    env -i HOME="$app" LANG=C.UTF-8 STACK=slipway-24 PATH="$path" bash -c '
      app=$1 env=$2 bp=$3
      for f in "$env"/*; do [ -f "$f" ] && export "${f##*/}=$(cat "$f")"; done
      if [ -f "$bp/export" ]; then . "$bp/export"; fi
      for f in "$app"/.profile.d/*.sh; do if [ -r "$f" ]; then . "$f"; fi; done
      cd "$app" && exec "$bp/bin/test" "$app" "$env"' _ "$app" "$env" "$bp" >"$log" 2>&1
  fi
}

# check DESCRIPTION NAME BUILDPACK SCRIPT EXPECTED [PATTERN...]: runs bin/SCRIPT; EXPECTED
# is pass (status 0) or fail (any other); each PATTERN (grep -E) must be in its output.
check() {
  local what=$1 name=$2 bp=$3 script=$4 expected=$5
  shift 5
  local log="$work/$name.$script.log" status=0
  step_of "$script" "$name" "$bp" || status=$?
  if [ "$expected" = pass ] && [ "$status" != 0 ]; then
    not_ok "$what: bin/$script exited $status" "$log"
    return 0
  elif [ "$expected" = fail ] && [ "$status" = 0 ]; then
    not_ok "$what: bin/$script exited 0" "$log"
    return 0
  fi
  for pattern in "$@"; do
    if ! grep -Eq -- "$pattern" "$log"; then
      not_ok "$what: no '$pattern' in bin/$script's output" "$log"
      return 0
    fi
  done
  ok "$what (bin/$script exited $status)"
}

have() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "skip: $tool is not installed (scripts/setup --languages)"
      return 1
    fi
  done
}

test_nodejs() {
  have node npm || return 0
  new_app node-pass ci-node
  check "nodejs: ci-node builds with its dev dependencies kept" node-pass nodejs test-compile pass \
    'Installing dependencies with npm ci' 'Keeping dev dependencies for the tests'
  check "nodejs: ci-node's npm test passes (GREETING from ENV_DIR, NODE_ENV=test)" node-pass nodejs test pass \
    'Running npm test' '^ok 1 - GREETING' '^ok 2 - NODE_ENV is test' '^# pass 3'

  new_app node-fail ci-node
  sed -i 's/"hello from node"/"goodbye"/' "$work/node-fail/test.js"
  check "nodejs: a failing npm test" node-fail nodejs test-compile pass
  check "nodejs: a failing npm test fails bin/test" node-fail nodejs test fail '^not ok 3 - ' '^# fail 1'

  new_app node-none ci-node
  sed -i '/"test":/d; s/"node server.js",/"node server.js"/' "$work/node-none/package.json"
  check "nodejs: no test script" node-none nodejs test-compile pass
  check "nodejs: no test script fails bin/test, saying so" node-none nodejs test fail 'has no "test" script'

  new_app node-deploy ci-node
  check "nodejs: bin/compile still prunes and defaults NODE_ENV to production" node-deploy nodejs compile pass \
    'Pruning dev dependencies'
  grep -q 'NODE_ENV:-production' "$work/node-deploy/.profile.d/nodejs.sh" ||
    not_ok "nodejs: bin/compile's .profile.d does not default NODE_ENV to production"
}

# A wheel of a stand-in "pytest" (PyPI is out of reach): `python -m pytest` runs unittest's
# discovery and says it is the stand-in, so bin/test's choice shows.
make_fake_pytest_wheel() {
  /usr/bin/python3 - "$1" <<'PY'
import base64, hashlib, sys, zipfile
files = {
    "pytest/__init__.py": "",
    "pytest/__main__.py": "import sys, unittest\nprint('stand-in pytest: running unittest discovery')\n"
                          "sys.exit(0 if unittest.main(module=None, argv=['pytest', 'discover'], exit=False).result.wasSuccessful() else 1)\n",
    "pytest-0.0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: pytest\nVersion: 0.0.1\n",
    "pytest-0.0.1.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: slipway-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
with zipfile.ZipFile(sys.argv[1] + "/pytest-0.0.1-py3-none-any.whl", "w") as whl:
    for name, text in files.items():
        data = text.encode()
        whl.writestr(name, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("pytest-0.0.1.dist-info/RECORD,,")
    whl.writestr("pytest-0.0.1.dist-info/RECORD", "\n".join(record) + "\n")
PY
}

python_app() {
  new_app "$1" python
  cat >"$work/$1/test_greeting.py" <<'PY'
import os
import unittest

from slipway_greeting import greet


class GreetingTest(unittest.TestCase):
    def test_greet(self):
        self.assertIn("python", greet("python"))

    def test_env(self):
        self.assertEqual(os.environ.get("GREETING"), "hi")
PY
}

test_python() {
  have /usr/bin/python3 || return 0
  python_app py-unittest
  check "python: a test build with no test requirements" py-unittest python test-compile pass \
    'Installing requirements \(requirements.txt\) from the wheels in vendor/'
  check "python: no pytest: unittest discover passes" py-unittest python test pass \
    'Running python -m unittest discover' 'Ran 2 tests' '^OK'

  python_app py-unittest-fail
  sed -i 's/"hi"/"bye"/' "$work/py-unittest-fail/test_greeting.py"
  check "python: a failing unittest" py-unittest-fail python test-compile pass
  check "python: a failing unittest fails bin/test" py-unittest-fail python test fail 'FAILED \(failures=1\)'

  python_app py-pytest
  make_fake_pytest_wheel "$work/py-pytest/vendor"
  echo "pytest==0.0.1" >"$work/py-pytest/requirements-test.txt"
  check "python: requirements-test.txt installed offline from vendor/" py-pytest python test-compile pass \
    'Installing requirements \(requirements.txt requirements-test.txt\) from the wheels in vendor/'
  check "python: pytest importable: python -m pytest runs" py-pytest python test pass \
    'Running python -m pytest' 'stand-in pytest' 'Ran 2 tests'

  python_app py-deploy
  make_fake_pytest_wheel "$work/py-deploy/vendor"
  echo "pytest==0.0.1" >"$work/py-deploy/requirements-test.txt"
  check "python: bin/compile leaves requirements-test.txt alone" py-deploy python compile pass
  if "$work/py-deploy/.venv/bin/python" -c 'import pytest' 2>/dev/null; then
    not_ok "python: bin/compile installed requirements-test.txt"
  fi
}

go_test_file() {
  cat >"$work/$1/main_test.go" <<GO
package main

import (
	"os"
	"testing"

	"example.com/greeting"
)

func TestGreeting(t *testing.T) {
	if got := greeting.Text("go"); got == "" {
		t.Fatal("empty greeting")
	}
	if os.Getenv("GREETING") != "$2" {
		t.Fatalf("GREETING is %q", os.Getenv("GREETING"))
	}
}
GO
}

test_go() {
  have /usr/bin/go || return 0
  new_app go-pass go
  go_test_file go-pass hi
  check "go: a vendored app's test build" go-pass go test-compile pass 'Built into bin/: hello'
  check "go: go test -mod=vendor passes" go-pass go test pass 'vendored in vendor/' '^ok[[:space:]]+example.com/hello'

  new_app go-fail go
  go_test_file go-fail bye
  check "go: a failing test's build" go-fail go test-compile pass
  check "go: a failing go test fails bin/test" go-fail go test fail '^--- FAIL: TestGreeting' '^FAIL'

  # A library: no main package, no vendor/, no dependencies.
  new_app go-lib
  printf 'module example.com/lib\n\ngo 1.19\n' >"$work/go-lib/go.mod"
  printf 'package lib\n\nfunc Twice(n int) int { return 2 * n }\n' >"$work/go-lib/lib.go"
  printf 'package lib\n\nimport "testing"\n\nfunc TestTwice(t *testing.T) {\n\tif Twice(2) != 4 {\n\t\tt.Fatal("no")\n\t}\n}\n' \
    >"$work/go-lib/lib_test.go"
  check "go: a library (no main package) builds for tests" go-lib go test-compile pass \
    'no main package' 'Compiling the tests for bin/test'
  check "go: the library's tests pass" go-lib go test pass \
    'modules bin/test-compile fetched' '^ok[[:space:]]+example.com/lib'
  new_app go-lib-deploy
  cp "$work/go-lib/go.mod" "$work/go-lib/lib.go" "$work/go-lib-deploy/"
  check "go: bin/compile still refuses an app with no main package" go-lib-deploy go compile fail \
    'no main packages to build' 'go build failed'

  # GOPATH mode (.godir).
  new_app go-gopath
  echo example.com/oldapp >"$work/go-gopath/.godir"
  printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println(greet()) }\n\nfunc greet() string { return "hi" }\n' \
    >"$work/go-gopath/main.go"
  printf 'package main\n\nimport "testing"\n\nfunc TestGreet(t *testing.T) {\n\tif greet() != "hi" {\n\t\tt.Fatal("no")\n\t}\n}\n' \
    >"$work/go-gopath/main_test.go"
  check "go: a GOPATH (.godir) app's test build" go-gopath go test-compile pass 'in GOPATH mode'
  check "go: go test in GOPATH mode" go-gopath go test pass 'GOPATH mode \(example.com/oldapp\)' '^ok[[:space:]]+example.com/oldapp'
}

ruby_app() {
  new_app "$1"
  printf 'source "https://rubygems.org"\ngem "rake"\ngroup :test do\n  gem "minitest"\nend\n' >"$work/$1/Gemfile"
  (cd "$work/$1" && env -i HOME="$work/$1" PATH="$path" BUNDLE_USER_HOME="$work/$1.lock-home" \
    bundle lock --local >/dev/null 2>&1)
  mkdir -p "$work/$1/test"
  cat >"$work/$1/test/greeting_test.rb" <<'RB'
require "minitest/autorun"

class GreetingTest < Minitest::Test
  def test_greeting
    assert_equal "hi", ENV["GREETING"]
  end

  def test_rack_env
    assert_equal "test", ENV["RACK_ENV"]
  end
end
RB
  printf 'require "rake/testtask"\n\nRake::TestTask.new(:test) do |t|\n  t.test_files = FileList["test/*_test.rb"]\nend\n' \
    >"$work/$1/Rakefile"
}

test_ruby() {
  have /usr/bin/ruby /usr/bin/bundle || return 0
  if ! /usr/bin/ruby -e 'gem "minitest"; gem "rake"' 2>/dev/null; then
    echo "skip: ruby: the server has no rake and minitest gems"
    return 0
  fi
  ruby_app rb-pass
  if [ ! -f "$work/rb-pass/Gemfile.lock" ]; then
    not_ok "ruby: bundle lock --local made no Gemfile.lock"
    return 0
  fi
  check "ruby: a test build has the test group" rb-pass ruby test-compile pass 'Using the gems installed on this server'
  check "ruby: rake test passes (RACK_ENV=test)" rb-pass ruby test pass \
    'Running bundle exec rake test' '2 runs, 2 assertions, 0 failures, 0 errors'
  grep -q 'BUNDLE_WITHOUT:-development}' "$work/rb-pass/.profile.d/ruby.sh" ||
    not_ok "ruby: the test build's .profile.d does not leave out only development"

  ruby_app rb-fail
  sed -i 's/"hi"/"bye"/' "$work/rb-fail/test/greeting_test.rb"
  check "ruby: a failing test's build" rb-fail ruby test-compile pass
  check "ruby: a failing rake test fails bin/test" rb-fail ruby test fail '1 failures'

  ruby_app rb-none
  echo 'task :default do end' >"$work/rb-none/Rakefile"
  check "ruby: an app with no tests builds" rb-none ruby test-compile pass
  check "ruby: no test task and no spec/ fails, saying so" rb-none ruby test fail \
    'no tests to run: Rakefile has no test task, and no spec/ directory'

  ruby_app rb-spec
  echo 'task :default do end' >"$work/rb-spec/Rakefile"
  mkdir -p "$work/rb-spec/spec"
  check "ruby: an app with spec/ builds" rb-spec ruby test-compile pass
  # rspec is not in this bundle: bin/test chooses it all the same, and bundler says why it fails.
  check "ruby: spec/ and no test task: bundle exec rspec" rb-spec ruby test fail \
    'Running bundle exec rspec \(Rakefile has no test task\)'
}

cmake_app() {
  new_app "$1"
  cat >"$work/$1/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(slipway_ci_cmake LANGUAGES C)
enable_testing()
add_executable(check check.c)
add_test(NAME arithmetic COMMAND check)
install(TARGETS check RUNTIME DESTINATION bin)
CMAKE
  cat >"$work/$1/check.c" <<C
#include <stdio.h>
int main(void) {
  printf("check: 2 + 2 = %d, expected $2\\n", 2 + 2);
  return 2 + 2 == $2 ? 0 : 1;
}
C
}

test_cmake() {
  have cmake ctest || return 0
  cmake_app cm-pass 4
  check "cmake: a test build keeps its build tree in the app" cm-pass cmake test-compile pass 'Configuring' 'Installing into'
  check "cmake: ctest passes" cm-pass cmake test pass 'Running ctest' '100% tests passed'
  # Again, from the same app path: the cached test tree is reused.
  cmake_app cm-pass 4
  check "cmake: a second test build reuses the cached tree" cm-pass cmake test-compile pass 'reusing the cached build tree'
  check "cmake: ctest passes again" cm-pass cmake test pass '100% tests passed'

  cmake_app cm-fail 5
  check "cmake: a failing test's build" cm-fail cmake test-compile pass
  check "cmake: a failing ctest fails bin/test, with the test's output" cm-fail cmake test fail \
    'tests failed' 'check: 2 \+ 2 = 4, expected 5'

  cmake_app cm-none 4
  sed -i '/enable_testing\|add_test/d' "$work/cm-none/CMakeLists.txt"
  check "cmake: a project without tests builds, with a warning" cm-none cmake test-compile pass 'defines no tests'
  check "cmake: a project without tests fails bin/test, saying so" cm-none cmake test fail 'the project defines no tests'

  cmake_app cm-deploy 4
  check "cmake: bin/compile keeps no build tree in the app" cm-deploy cmake compile pass
  check "cmake: bin/test after bin/compile fails, saying so" cm-deploy cmake test fail 'bin/test-compile makes it'
}

for language in "${languages[@]}"; do
  echo "== $language"
  "test_$language"
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

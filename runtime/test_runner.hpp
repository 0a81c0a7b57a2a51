// Running a CI test run (test_runs.hpp) to its end, Heroku CI's way: the commit's tree built
// as for production but with each buildpack's bin/test-compile and app.json's
// environments.test (buildpacks, env), its test-setup once, then its tests — the `test`
// script, else each buildpack's bin/test — on `environments.test.formation.test.quantity`
// nodes, each in a sandbox and a copy of its own, at most [ci] workers at once. A failure
// before the tests start is `errored`; tests that ran and failed are `failed`. Nothing of a
// run outlives it: its directory goes, its sandboxes' processes with it, and it never
// touches the app's releases or config.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

#include "common/config.hpp"
#include "common/error.hpp"
#include "runtime/layout.hpp"
#include "runtime/test_runs.hpp"

namespace slipway {

// Runs test run `number`, which must be pending and unclaimed. `on_output` gets the build's
// lines, then each node's prefixed with "node I: " when there are several. The run's
// record says how it ended; an Error only when it could not be run at all.
// `export_source` writes the commit's tree into the (empty) dir it is given; empty: from the
// app's repository (a push's pre-receive passes one that sees its quarantined objects).
Expected<TestRun> execute_test_run(
    const Layout& layout, const Config& config, int number,
    const std::function<void(std::string_view)>& on_output,
    const std::function<Expected<void>(const std::filesystem::path&)>& export_source = {});

} // namespace slipway

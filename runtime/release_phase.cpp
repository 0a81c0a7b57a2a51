#include "runtime/release_phase.hpp"

#include "common/atomic_file.hpp"
#include "common/output.hpp"
#include "runtime/launch.hpp"

namespace slipway {

Expected<void> run_release_phase(const ReleasePhase& phase) {
  auto log = TRY(AtomicFile::create(phase.log, 0600));
  phase.on_output(step_line("Running release command: " + phase.command));
  std::map<std::string, std::string> env(phase.config.begin(), phase.config.end());
  env["DYNO"] = "release.1";
  env["SLIPWAY_RELEASE"] = fmt::format("v{}", phase.version);
  Command command = TRY(launch_command(
      {.sandbox = phase.sandbox, .app_dir = phase.app_dir, .command = phase.command, .env = env}));
  command.timeout = phase.timeout;
  Expected<void> log_error;
  command.on_line = [&](std::string_view line) {
    phase.on_output(detail_line(line));
    if (log_error) {
      log_error = log.write(std::string(line) + "\n");
    }
  };
  auto status = TRY(run(command));
  TRY(log_error);
  TRY(log.commit());
  if (!status.ok()) {
    return fail("release command {}", status.describe(phase.timeout));
  }
  return {};
}

} // namespace slipway

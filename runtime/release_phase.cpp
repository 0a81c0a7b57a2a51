#include "runtime/release_phase.hpp"

#include "common/files.hpp"
#include "common/output.hpp"
#include "runtime/dyno.hpp"

namespace slipway {

Expected<void> run_release_phase(const ReleasePhase& phase) {
  auto log = TRY(AtomicFile::create(phase.log, 0600));
  const std::string& release_command = phase.release.release_command;
  phase.on_output(step_line("Running release command: " + release_command));
  Command command = TRY(process_command({.release = phase.release,
                                         .dyno = "release.1",
                                         .command = release_command,
                                         .app_dir = phase.app_dir,
                                         .sandbox = phase.sandbox}));
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

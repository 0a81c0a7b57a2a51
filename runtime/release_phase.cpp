#include "runtime/release_phase.hpp"

#include "common/files.hpp"
#include "common/output.hpp"
#include "runtime/dyno.hpp"

namespace slipway {

Expected<void> run_release_phase(const ReleasePhase& phase) {
  auto log = TRY(AtomicFile::create(phase.log, 0600));
  const std::string& text = phase.command.empty() ? phase.release.release_command : phase.command;
  phase.on_output(step_line(fmt::format("Running {}: {}", phase.what, text)));
  ProcessFiles files{.root = phase.app_dir, .app = phase.app_dir};
  Command command = TRY(process_command({.release = phase.release,
                                         .dyno = phase.dyno,
                                         .command = text,
                                         .files = files,
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
    return fail("{} {}", phase.what, status.describe(phase.timeout));
  }
  return {};
}

} // namespace slipway

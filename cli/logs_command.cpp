// logs -a APP [-n N] [--tail]
#include <csignal>
#include <cstdio>

#include "cli/cli.hpp"
#include "runtime/app_log.hpp"

namespace slipway::cli {

namespace {

struct LogsArgs {
  std::string app;
  std::size_t lines = 100;
  bool tail = false;
};

std::atomic<bool> g_interrupted{false};

Expected<void> show(const Globals& globals, const LogsArgs& args) {
  auto layout = globals.layout();
  if (auto exists = require_app(layout, args.app); !exists) {
    return exists;
  }
  for (const auto& line : read_log_tail(layout.log_dir(args.app), args.lines)) {
    std::puts(line.c_str());
  }
  std::fflush(stdout);
  if (args.tail) {
    std::signal(SIGINT, [](int) { g_interrupted = true; });
    std::signal(SIGTERM, [](int) { g_interrupted = true; });
    std::signal(SIGPIPE, [](int) { g_interrupted = true; });
    follow_log(
        layout.log_dir(args.app),
        [](std::string_view line) {
          std::fwrite(line.data(), 1, line.size(), stdout);
          std::fputc('\n', stdout);
          if (std::fflush(stdout) != 0) {
            g_interrupted = true; // the reader went away
          }
        },
        g_interrupted);
  }
  return {};
}

} // namespace

void add_logs_command(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<LogsArgs>();
  auto* logs = app.add_subcommand("logs", "show an app's log: its processes, router and releases");
  add_app_option(logs, args->app);
  logs->add_option("-n,--num", args->lines, "how many lines to show (default 100)")
      ->check(CLI::Range(0, 1000000));
  logs->add_flag("-t,--tail", args->tail, "keep printing new lines until interrupted");
  logs->callback([&, args] { action = [&globals, args] { return show(globals, *args); }; });
}

} // namespace slipway::cli

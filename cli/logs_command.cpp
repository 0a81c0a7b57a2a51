// logs -a APP [-n N] [--tail] [--source app|slipway] [--ps web|web.1]
#include <atomic>
#include <csignal>
#include <cstdio>

#include "cli/cli.hpp"
#include "ops/history.hpp"

namespace slipway::cli {

namespace {

struct LogsArgs {
  std::string app;
  std::size_t lines = 100;
  bool tail = false;
  LogFilter filter;
};

std::atomic<bool> g_interrupted{false};

void print_log_line(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  if (std::fflush(stdout) != 0) {
    g_interrupted = true; // the reader went away
  }
}

Expected<void> show(const Globals& globals, const LogsArgs& args) {
  auto context = TRY(globals.context());
  for (const auto& line :
       TRY(ops::read_log(context, {.app = args.app, .count = args.lines, .filter = args.filter}))) {
    print_log_line(line);
  }
  if (args.tail) {
    interrupt_on_signals(g_interrupted);
    TRY(ops::follow_log(context, args.app, print_log_line, g_interrupted, args.filter));
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
  logs->add_option("-s,--source", args->filter.source, "only app (its output) or slipway");
  logs->add_option("-d,--dyno,-p,--ps", args->filter.process,
                   "only this process type (web) or process (web.1)");
  logs->callback(choose(globals, action, args, show));
}

} // namespace slipway::cli

// events [-a APP] [-n N] [--since ID] [--json] [--tail]
#include <csignal>
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "runtime/apps.hpp"
#include "runtime/events.hpp"

namespace slipway::cli {

namespace {

struct EventsArgs {
  std::string app;
  std::size_t count = 100;
  std::uint64_t since = 0;
  bool json = false;
  bool tail = false;
};

std::atomic<bool> g_interrupted{false};

void print_event(const Event& event, bool json) {
  std::string line;
  if (json) {
    line = event_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    auto [source, text] = describe_event(event);
    line = fmt::format("{} #{} {} {}.{} ({}): {}", format_time(event.time), event.id,
                       event.app.empty() ? "-" : event.app, event.resource, event.action,
                       event.actor, printable(text));
  }
  std::puts(line.c_str());
  if (std::fflush(stdout) != 0) {
    g_interrupted = true; // the reader went away
  }
}

Expected<void> show(const Globals& globals, const EventsArgs& args) {
  auto layout = globals.layout();
  if (!args.app.empty()) {
    if (auto exists = require_app(layout, args.app); !exists) {
      return exists;
    }
  }
  EventQuery query{.app = args.app, .since = args.since, .limit = args.count};
  auto page = read_events(layout, query);
  for (const auto& warning : page.warnings) {
    print_line("warning: " + warning);
  }
  std::uint64_t last = page.events.empty() ? args.since : page.events.back().id;
  if (args.json && !args.tail) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& event : page.events) {
      out.push_back(event_json(event));
    }
    std::puts(out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return {};
  }
  for (const auto& event : page.events) {
    print_event(event, args.json);
  }
  if (args.tail) {
    std::signal(SIGINT, [](int) { g_interrupted = true; });
    std::signal(SIGTERM, [](int) { g_interrupted = true; });
    std::signal(SIGPIPE, [](int) { g_interrupted = true; });
    query.limit = 0;
    follow_events(
        layout, query, last, [&](const Event& event) { print_event(event, args.json); },
        [](const std::string& warning) { print_line("warning: " + warning); }, g_interrupted);
  }
  return {};
}

} // namespace

void add_events_command(CLI::App& app, const Globals& globals, Action& action) {
  auto args = std::make_shared<EventsArgs>();
  auto* events = app.add_subcommand(
      "events", "what happened: builds, releases, config, scaling, processes, domains, access");
  events->add_option("-a,--app", args->app, "only this app's events");
  events
      ->add_option("-n,--num", args->count, "how many of the latest to show (default 100; 0: all)")
      ->check(CLI::Range(0, 100000000));
  events->add_option("--since", args->since, "only events after this id");
  events->add_flag("--json", args->json, "as JSON: an array, or with --tail one object per line");
  events->add_flag("-t,--tail", args->tail, "keep printing new events until interrupted");
  events->callback([&, args] { action = [&globals, args] { return show(globals, *args); }; });
}

} // namespace slipway::cli

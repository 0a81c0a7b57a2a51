// events [-a APP] [-n N] [--since ID] [--json] [--tail]
#include <atomic>
#include <cstdio>

#include "cli/cli.hpp"
#include "common/output.hpp"
#include "ops/history.hpp"

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

std::string json_text(const nlohmann::json& json, int indent) {
  return json.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_event(const Event& event, bool json) {
  std::string line;
  if (json) {
    line = json_text(event_json(event), -1);
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

void print_warning(const std::string& warning) {
  print_line("warning: " + warning);
}

Expected<void> show(const Globals& globals, const EventsArgs& args) {
  auto context = TRY(globals.context());
  ops::ReadEvents request{.app = args.app, .since = args.since, .count = args.count};
  auto page = TRY(ops::read_events(context, request));
  for (const auto& warning : page.warnings) {
    print_warning(warning);
  }
  if (args.json && !args.tail) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& event : page.events) {
      out.push_back(event_json(event));
    }
    std::puts(json_text(out, 2).c_str());
    return {};
  }
  for (const auto& event : page.events) {
    print_event(event, args.json);
  }
  if (args.tail) {
    interrupt_on_signals(g_interrupted);
    std::uint64_t last = page.events.empty() ? args.since : page.events.back().id;
    TRY(ops::follow_events(
        context, request, last, [&](const Event& event) { print_event(event, args.json); },
        print_warning, g_interrupted));
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
  events->callback(choose(globals, action, args, show));
}

} // namespace slipway::cli

// What happened: an app's log, the event stream, and the builds with their output.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/app_log.hpp"
#include "runtime/builds.hpp"
#include "runtime/events.hpp"

namespace slipway::ops {

struct ReadLog {
  std::string app;
  std::size_t count = 100; // the last lines
  LogFilter filter;
};
// Checks a filter as `logs` takes it: --source app|slipway, --ps TYPE or TYPE.N.
Expected<void> check_log_filter(const LogFilter& filter);
Expected<std::vector<std::string>> read_log(const Context& context, const ReadLog& request);
// Every line appended from now on, until `stop` is set.
Expected<void> follow_log(const Context& context, const std::string& app,
                          const std::function<void(std::string_view)>& on_line,
                          const std::atomic<bool>& stop, const LogFilter& filter = {});

struct ReadEvents {
  std::string app;         // empty: every app the actor may use
  std::uint64_t since = 0; // only events after this id
  std::size_t count = 100; // the last `count` of those (0: all)
};
Expected<EventPage> read_events(const Context& context, const ReadEvents& request);
// Every event after `after` that `request` selects, until `stop` is set.
Expected<void> follow_events(const Context& context, const ReadEvents& request, std::uint64_t after,
                             const std::function<void(const Event&)>& on_event,
                             const std::function<void(const std::string&)>& on_warning,
                             const std::atomic<bool>& stop);

// Newest first.
Expected<std::vector<BuildRecord>> list_builds(const Context& context, const std::string& app);

struct BuildOutput {
  std::string app;
  std::optional<int> id; // default: the newest build
};
Expected<std::string> build_output(const Context& context, const BuildOutput& request);

} // namespace slipway::ops

#include "ops/history.hpp"

#include <thread>

#include "common/files.hpp"
#include "common/output.hpp"
#include "compiler/procfile.hpp"
#include "ops/rights.hpp"
#include "runtime/app_log.hpp"
#include "runtime/apps.hpp"

namespace slipway::ops {

Expected<void> check_log_filter(const LogFilter& filter) {
  if (!filter.source.empty() && filter.source != "app" && filter.source != "slipway") {
    return usage_error("unknown log source '{}' (expected app or slipway)",
                       printable(filter.source));
  }
  std::string_view type = filter.process;
  type = type.substr(0, type.find('.'));
  std::string_view index = filter.process.size() > type.size()
                               ? std::string_view(filter.process).substr(type.size() + 1)
                               : "0";
  if (!filter.process.empty() &&
      (!is_process_type_name(type) || index.empty() ||
       index.find_first_not_of("0123456789") != std::string_view::npos || index.size() > 9)) {
    return usage_error("invalid process '{}' (expected TYPE or TYPE.N, e.g. web.1)",
                       printable(filter.process));
  }
  return {};
}

Expected<std::vector<std::string>> read_log(const Context& context, const ReadLog& request) {
  TRY(authorize(context, "logs", request.app));
  TRY(check_log_filter(request.filter));
  return read_log_tail(context.layout.log_dir(request.app), request.count, request.filter);
}

Expected<void> follow_log(const Context& context, const std::string& app,
                          const std::function<void(std::string_view)>& on_line,
                          const std::atomic<bool>& stop, const LogFilter& filter) {
  TRY(authorize(context, "logs", app));
  TRY(check_log_filter(filter));
  slipway::follow_log(
      context.layout.log_dir(app),
      [&](std::string_view line) {
        if (filter.matches(line)) {
          on_line(line);
        }
      },
      stop);
  return {};
}

namespace {

// What `request` may read: one app, every app for an admin, or a collaborator's apps. An
// empty result means nothing may be read.
Expected<std::optional<EventQuery>> event_query(const Context& context, const ReadEvents& request) {
  TRY(authorize(context, "events", request.app));
  EventQuery query{.app = request.app, .since = request.since, .limit = request.count};
  if (request.app.empty() && !context.actor.admin) {
    for (const auto& app : slipway::list_apps(context.layout)) {
      if (may_access(context, app)) {
        query.apps_allowed.push_back(app);
      }
    }
    if (query.apps_allowed.empty()) {
      return std::nullopt; // (an empty list would mean every app)
    }
  }
  return query;
}

} // namespace

Expected<EventPage> read_events(const Context& context, const ReadEvents& request) {
  auto query = TRY(event_query(context, request));
  return query ? slipway::read_events(context.layout, *query) : EventPage{};
}

Expected<void> follow_events(const Context& context, const ReadEvents& request, std::uint64_t after,
                             const std::function<void(const Event&)>& on_event,
                             const std::function<void(const std::string&)>& on_warning,
                             const std::atomic<bool>& stop) {
  auto query = TRY(event_query(context, request));
  if (!query) {
    // The key has no app (its rights are read once, at the start): nothing will come.
    while (!stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return {};
  }
  query->limit = 0;
  slipway::follow_events(context.layout, *query, after, on_event, on_warning, stop);
  return {};
}

Expected<std::vector<BuildRecord>> list_builds(const Context& context, const std::string& app) {
  TRY(authorize(context, "builds", app));
  return slipway::list_builds(context.layout, app);
}

Expected<std::string> build_output(const Context& context, const BuildOutput& request) {
  TRY(authorize(context, "builds:output", request.app));
  int id = 0;
  if (request.id) {
    id = *request.id;
  } else {
    auto builds = slipway::list_builds(context.layout, request.app);
    if (builds.empty()) {
      return fail("'{}' has no builds", request.app);
    }
    id = builds.front().id;
  }
  auto path = context.layout.build_log(request.app, id);
  std::error_code ec;
  if (id < 1 || !std::filesystem::exists(path, ec)) {
    return fail("build {} of '{}' does not exist", id, request.app);
  }
  return read_file(path);
}

} // namespace slipway::ops

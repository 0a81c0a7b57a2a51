#include "runtime/daemon/reconciler.hpp"

#include <set>
#include <utility>

#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"
#include "runtime/release_store.hpp"

namespace slipway::daemon {

namespace {

// Nobody waits for a reconciliation: its lines are the app log's and the daemon's.
std::optional<int> version_of(const std::shared_ptr<const Release>& release) {
  return release ? std::optional<int>(release->version) : std::nullopt;
}

std::string shown(std::optional<int> version) {
  return version ? fmt::format("v{}", *version) : std::string("nothing");
}

} // namespace

std::optional<std::string> app_to_reconcile(const Event& event) {
  static const std::set<std::pair<std::string, std::string>> changes = {
      {"formation", "changed"},   {"domain", "added"},         {"domain", "removed"},
      {"maintenance", "enabled"}, {"maintenance", "disabled"}, {"release", "created"},
      {"release", "succeeded"},   {"release", "rolled_back"},  {"app", "updated"}};
  std::string app;
  if (event.resource == "app" && event.action == "destroyed") {
    auto named = event.data.find("app");
    app = named != event.data.end() && named->is_string() ? named->get<std::string>() : "";
  } else if (changes.contains({event.resource, event.action})) {
    app = event.app;
  }
  if (app.empty() || !validate_app_name(app)) {
    return std::nullopt;
  }
  return app;
}

Subscriber reconciler(Apps& apps) {
  return {.name = "reconciler",
          .wants = [](const Event& event) { return app_to_reconcile(event).has_value(); },
          .handle = [&apps](Event event) { return apps.reconcile(*app_to_reconcile(event)); }};
}

// Coroutines cannot use TRY (it returns): errors are passed on with co_return.
awaitable<Expected<void>> Apps::converge_release(const std::string& name) {
  auto guard = co_await claim(name);
  AppState& app = state(name);
  std::optional<int> live = ReleaseStore(m_context.layout, name).live_version();
  std::optional<int> running = version_of(app.release);
  if (live == running) {
    co_return Expected<void>();
  }
  m_context.say("{}: {} is live but {} runs: switching to it", name, shown(live), shown(running));
  if (!live) {
    co_await stop_serving(name);
    co_return Expected<void>();
  }
  NoCaller nobody;
  auto switched = co_await switch_to(name, *live, std::nullopt, nobody, false);
  if (!switched) {
    co_return std::unexpected(switched.error());
  }
  co_return Expected<void>();
}

awaitable<void> Apps::reconcile(std::string name) {
  bool exists = static_cast<bool>(require_app(m_context.layout, name));
  if (!exists && !m_apps.contains(name)) {
    co_return; // gone, and nothing of it runs here
  }
  if (exists) {
    if (auto converged = co_await converge_release(name); !converged) {
      m_context.say("{}: {}", name, converged.error().message);
    }
  }
  if (auto synced = co_await sync(name, false); !synced) {
    m_context.say("{}: {}", name, synced.error().message);
  }
}

} // namespace slipway::daemon

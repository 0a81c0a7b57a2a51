// The dashboard's own endpoints: who is signed in (and the session's CSRF token), the board in
// one request (ops/board.hpp: a first paint needs no dozens of calls), an app's recent events,
// and the event stream as server-sent events, so an open page changes as soon as something
// happens.
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "api/endpoints.hpp"
#include "common/time.hpp"
#include "ops/board.hpp"
#include "ops/history.hpp"
#include "runtime/keys.hpp"

namespace slipway::api {

namespace {

using nlohmann::json;

// How often an idle event stream says it is alive: a client gone is noticed then.
constexpr std::chrono::seconds k_heartbeat{15};

Expected<Response> session(Call& call) {
  json out{{"user", call.context.actor.name},
           {"admin", call.context.actor.admin || call.context.actor.local},
           {"csrf", call.csrf}};
  if (auto key = find_key(call.context.layout, call.context.actor.name)) {
    out["email"] = key->email;
  }
  Response response = json_response(out);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

json card_json(const ops::Card& card) {
  json processes = json::array();
  for (const auto& process : card.processes) {
    processes.push_back({{"name", process.name},
                         {"type", process.type},
                         {"state", process.state},
                         {"release", process.release},
                         {"crashes", process.crashes}});
  }
  json promote_to = json::array();
  for (const auto& target : card.promote_to) {
    json commits = json::array();
    for (const auto& commit : target.commits) {
      commits.push_back({{"id", commit.id},
                         {"author", commit.author},
                         {"time", format_time(commit.time)},
                         {"subject", commit.subject}});
    }
    promote_to.push_back({{"app", target.app},
                          {"version", target.version ? json(*target.version) : json()},
                          {"count", target.count},
                          {"more", target.count >= ops::k_counted_commits},
                          {"commits", commits},
                          {"problem", target.problem}});
  }
  json out{{"app", card.app},
           {"id", card.app_id},
           {"url", card.url},
           {"stage", card.stage},
           {"live", card.live ? json(*card.live) : json()},
           {"description", card.description},
           {"released_at", card.released_at ? json(format_time(*card.released_at)) : json()},
           {"commit", card.commit},
           {"subject", card.subject},
           {"ci", card.ci},
           {"ci_run", card.ci_run},
           {"last_build", card.last_build},
           {"last_build_reason", card.last_build_reason},
           {"failing", card.failing()},
           {"maintenance", card.maintenance},
           {"processes", processes},
           {"processes_problem", card.processes_problem},
           {"promote_to", promote_to},
           {"review", nullptr}};
  if (!card.branch.empty()) {
    out["review"] = {{"branch", card.branch},
                     {"pull_request", card.pull_request},
                     {"status", card.review_status}};
  }
  return out;
}

Expected<Response> board(Call& call) {
  auto dashboard = TRY(ops::dashboard(call.context));
  json pipelines = json::array();
  for (const auto& each : dashboard.pipelines) {
    json cards = json::array();
    for (const auto& card : each.cards) {
      cards.push_back(card_json(card));
    }
    pipelines.push_back({{"id", each.pipeline.id},
                         {"name", each.pipeline.name},
                         {"review_apps", each.pipeline.review_apps.has_value()},
                         {"cards", cards}});
  }
  json apps = json::array();
  for (const auto& card : dashboard.apps) {
    apps.push_back(card_json(card));
  }
  Response response = json_response({{"pipelines", pipelines}, {"apps", apps}});
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

// An app's newest events, newest first: the app page's activity feed, which the event stream
// then continues.
Expected<Response> activity(Call& call) {
  auto app = call.query("app");
  if (!app) {
    return usage_error("name the app: /dashboard/activity?app=NAME");
  }
  auto found = TRY(ops::find_app(call.context, *app));
  auto page = TRY(ops::read_events(call.context, {.app = found.name, .count = 50}));
  json out = json::array();
  for (auto event = page.events.rbegin(); event != page.events.rend(); ++event) {
    out.push_back(event_json(*event));
  }
  return json_response(out);
}

// Where a stream starts: after the event the browser saw last (Last-Event-ID, sent when it
// reconnects), else after the newest one.
std::uint64_t stream_start(const Call& call) {
  std::string_view last = to_std(call.request["Last-Event-ID"]);
  std::uint64_t id = 0;
  if (!last.empty() &&
      std::from_chars(last.data(), last.data() + last.size(), id).ec == std::errc()) {
    return id;
  }
  return last_event_id(call.context.layout);
}

// The events the actor may see, as server-sent events ("id: N", "data: {event}"), from
// stream_start; a comment every k_heartbeat while none come.
Expected<Response> events(Call& call) {
  TRY(ops::read_events(call.context, {.count = 1})); // the right to, asked now
  Response response{.content_type = "text/event-stream"};
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Accel-Buffering", "no"); // nginx passes each event on
  response.stream = [context = call.context, after = stream_start(call)](
                        const StreamWriter& write, const std::atomic<bool>& stop) {
    std::mutex mutex; // the writer is used by this thread and the heartbeat's
    std::condition_variable wake;
    std::atomic<bool> done = false; // the client went, or the server is stopping
    auto send = [&](std::string_view text) {
      std::lock_guard lock(mutex);
      if (!done && !write(text)) {
        done = true;
      }
    };
    send("retry: 1000\n: connected\n\n");
    // Says it is alive every k_heartbeat (a client gone is noticed then), and ends the stream
    // when the server stops.
    std::thread heartbeat([&] {
      auto next = std::chrono::steady_clock::now() + k_heartbeat;
      std::unique_lock lock(mutex);
      while (!done) {
        wake.wait_for(lock, std::chrono::milliseconds(100));
        if (stop) {
          done = true;
        } else if (!done && std::chrono::steady_clock::now() >= next) {
          done = !write(": alive\n\n");
          next = std::chrono::steady_clock::now() + k_heartbeat;
        }
      }
    });
    // Returns once `done` is set; an error (the key lost its rights since) ends the stream.
    (void)ops::follow_events(
        context, {.count = 0}, after,
        [&](const Event& event) {
          send(fmt::format("id: {}\ndata: {}\n\n", event.id, event_json(event).dump()));
        },
        [](const std::string&) {}, done);
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    wake.notify_all();
    heartbeat.join();
  };
  return response;
}

} // namespace

void add_dashboard_routes(std::vector<Route>& routes) {
  routes.push_back({http::verb::get, "/dashboard/session", session});
  routes.push_back({http::verb::get, "/dashboard/board", board});
  routes.push_back({http::verb::get, "/dashboard/activity", activity});
  routes.push_back({http::verb::get, "/dashboard/events", events});
}

} // namespace slipway::api

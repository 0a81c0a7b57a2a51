// The event stream: every state change of the server — a build, a release, a config
// change, scaling, a process's state, a domain, a right, an app created or destroyed — as
// one event, recorded once the change it describes is durable. The app's log renders its
// `slipway[...]` lines from the same events: one source, not two.
//
// ROOT/events/events.jsonl holds one JSON object per line (keys in alphabetical order):
//   {"action":"created","actor":"alice","app":"demo","data":{"description":"Deploy 3f2a1bc",
//    "version":3},"id":42,"resource":"release","time":"2026-12-02T16:00:00Z"}
// Ids are server-wide and increase by one; writers take ROOT/events/.lock to number and
// append. At k_events_size the file is rotated to events.jsonl.1 (one older file is kept).
// A line torn by a killed writer is skipped by readers, with a warning, and the next event
// starts on a line of its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway {

constexpr std::uint64_t k_events_size = 16 * 1024 * 1024;

struct Event {
  std::uint64_t id = 0; // given when recorded
  TimePoint time{};     // given when recorded
  std::string app;      // "" for a change to the server: keys, an app destroyed
  std::string resource; // "build", "release", "config", "formation", "dyno", "domain", ...
  std::string action;   // "created", "succeeded", "failed", "changed"; a dyno's new state
  std::string actor;    // a key's name, the server's local user, or "slipway" itself
  nlohmann::json data = nlohmann::json::object();
};

nlohmann::json event_json(const Event& event);
// A line of events.jsonl; the error names what is wrong with it.
Expected<Event> parse_event(std::string_view line);

// How the app's log shows an event: its source ("slipway[api]", "slipway[web.1]") and text.
struct EventLine {
  std::string source;
  std::string text;
};
EventLine describe_event(const Event& event);

// Who is asking: the key's name over ssh (SLIPWAY_USER, set by ssh-command), else the
// local user running slipway.
std::string local_actor();

// Records `event` with the next id and the current time, then appends its line to the
// app's log. Call it only once the change is durable.
Expected<Event> record_event(const Layout& layout, const Config& config, Event event);

struct EventQuery {
  std::string app;                       // "": every app
  std::uint64_t since = 0;               // only events with a greater id
  std::size_t limit = 100;               // the last `limit` of those (0: all)
  std::vector<std::string> apps_allowed; // when not empty: only these apps' events
};

struct EventPage {
  std::vector<Event> events;
  std::vector<std::string> warnings; // lines skipped, and why
};
EventPage read_events(const Layout& layout, const EventQuery& query);

// Calls `on_event` for every event recorded after `after` that `query` selects, in order,
// until `stop` is set; `on_warning` for lines it skips.
void follow_events(const Layout& layout, const EventQuery& query, std::uint64_t after,
                   const std::function<void(const Event&)>& on_event,
                   const std::function<void(const std::string&)>& on_warning,
                   const std::atomic<bool>& stop);

} // namespace slipway

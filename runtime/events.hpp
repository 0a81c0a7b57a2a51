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
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/line_file.hpp"
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

// The newest event's id; 0 when none was recorded.
std::uint64_t last_event_id(const Layout& layout);

// Reads the event stream as it grows, without waiting: each poll() returns the events
// recorded since the last one. Every event after `after` comes, in order and once: from
// events.jsonl.1 too when a rotation moved them there, and across rotations while it
// follows. A line that does not parse (torn by a killed writer) is skipped with a warning.
class EventFollower {
 public:
  EventFollower(const Layout& layout, std::uint64_t after);

  std::vector<Event> poll(const std::function<void(const std::string&)>& on_warning);
  // The last event poll() returned, else `after`.
  std::uint64_t last_id() const { return m_seen; }

 private:
  Layout m_layout;
  std::uint64_t m_seen;
  LineFollower m_lines;
  bool m_caught_up = false; // the rotated file was looked at
};

// A subscriber's cursor: the id of the last event it handled, in ROOT/events/cursors/NAME
// (the decimal id and a newline, replaced atomically). nullopt: none was recorded.
Expected<std::optional<std::uint64_t>> read_event_cursor(const Layout& layout,
                                                         const std::string& name);
Expected<void> write_event_cursor(const Layout& layout, const std::string& name, std::uint64_t id);

// One subscriber of the event stream (the daemon's reconciler; webhooks later): a name and
// its durable cursor. It is handed every event after the cursor, in order, and moves the
// cursor once it has handled one, so that after a restart it resumes after the last event
// it handled: none is handed out twice, none skipped.
class EventSubscription {
 public:
  // NAME: lowercase letters, digits and '-'. A new subscriber starts after the newest event
  // (history is not replayed to it) and records that as its cursor. A cursor past the newest
  // event (the stream was deleted and began again) starts over from the first event.
  static Expected<EventSubscription>
  open(const Layout& layout, std::string name,
       const std::function<void(const std::string&)>& on_warning);

  const std::string& name() const { return m_name; }
  std::uint64_t cursor() const { return m_cursor; }
  // The events after the cursor not handed out yet, in order.
  std::vector<Event> poll(const std::function<void(const std::string&)>& on_warning);
  // The events up to `id` are handled: the cursor moves there, durably.
  Expected<void> handled(std::uint64_t id);

 private:
  EventSubscription(const Layout& layout, std::string name, std::uint64_t cursor);

  Layout m_layout;
  std::string m_name;
  std::uint64_t m_cursor;
  std::unique_ptr<EventFollower> m_follower;
};

// Calls `on_event` for every event recorded after `after` that `query` selects, in order,
// until `stop` is set; `on_warning` for lines it skips.
void follow_events(const Layout& layout, const EventQuery& query, std::uint64_t after,
                   const std::function<void(const Event&)>& on_event,
                   const std::function<void(const std::string&)>& on_warning,
                   const std::atomic<bool>& stop);

} // namespace slipway

#include "runtime/events.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <pwd.h>
#include <ranges>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/fd.hpp"
#include "common/file_lock.hpp"
#include "common/files.hpp"
#include "common/line_file.hpp"
#include "common/lines.hpp"
#include "runtime/app_log.hpp"

namespace slipway {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::optional<TimePoint> parse_time(const std::string& text) {
  int year = 0;
  unsigned month = 0, day = 0, hour = 0, minute = 0, second = 0;
  char zone = 0;
  if (text.size() != 20 ||
      std::sscanf(text.c_str(), "%4d-%2u-%2uT%2u:%2u:%2u%c", &year, &month, &day, &hour, &minute,
                  &second, &zone) != 7 ||
      zone != 'Z') {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                   std::chrono::day{day}};
  if (!date.ok() || hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  return std::chrono::sys_days{date} + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second);
}

// The id of the last complete event in `file`, if any: read from its end.
std::optional<std::uint64_t> last_id_in(const fs::path& file) {
  UniqueFd fd(open(file.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat info {};
  if (!fd || fstat(fd.get(), &info) != 0 || info.st_size == 0) {
    return std::nullopt;
  }
  // Events are small: the last one is in the last 64 KiB, or the file is read whole.
  for (off_t window : {off_t{64 * 1024}, info.st_size}) {
    off_t start = std::max<off_t>(0, info.st_size - window);
    std::string text(static_cast<std::size_t>(info.st_size - start), '\0');
    ssize_t n = pread(fd.get(), text.data(), text.size(), start);
    if (n < 0) {
      return std::nullopt;
    }
    text.resize(static_cast<std::size_t>(n));
    auto lines = split_lines(text);
    // The first line of a window that does not start the file may be cut.
    std::size_t first = start > 0 ? 1 : 0;
    for (std::size_t i = lines.size(); i > first; --i) {
      if (auto event = parse_event(lines[i - 1].text)) {
        return event->id;
      }
    }
    if (start == 0) {
      break;
    }
  }
  return std::nullopt;
}

bool selected(const Event& event, const EventQuery& query) {
  if (event.id <= query.since || (!query.app.empty() && event.app != query.app)) {
    return false;
  }
  return query.apps_allowed.empty() ||
         std::find(query.apps_allowed.begin(), query.apps_allowed.end(), event.app) !=
             query.apps_allowed.end();
}

// "A, B": the strings of a JSON array of names (anything else in it is left out).
std::string name_list(const json& names) {
  auto strings = names | std::views::filter([](const json& name) { return name.is_string(); }) |
                 std::views::transform([](const json& name) { return name.get<std::string>(); });
  return fmt::format("{}", fmt::join(strings, ", "));
}

std::string text_of(const json& data, const char* key) {
  auto it = data.find(key);
  return it != data.end() && it->is_string() ? it->get<std::string>() : std::string();
}

long number_of(const json& data, const char* key) {
  auto it = data.find(key);
  return it != data.end() && it->is_number_integer() ? it->get<long>() : 0;
}

} // namespace

json event_json(const Event& event) {
  return {{"id", event.id},         {"time", format_time(event.time)},
          {"app", event.app},       {"resource", event.resource},
          {"action", event.action}, {"actor", event.actor},
          {"data", event.data}};
}

Expected<Event> parse_event(std::string_view line) {
  json object = json::parse(line, nullptr, false);
  if (object.is_discarded() || !object.is_object()) {
    return fail("not a JSON object");
  }
  Event event;
  auto id = object.find("id");
  if (id == object.end() || !id->is_number_unsigned() || id->get<std::uint64_t>() == 0) {
    return fail("no id");
  }
  event.id = id->get<std::uint64_t>();
  for (auto [key, field] : {std::pair{"app", &event.app}, std::pair{"resource", &event.resource},
                            std::pair{"action", &event.action}, std::pair{"actor", &event.actor}}) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_string()) {
      return fail("event {} has no '{}'", event.id, key);
    }
    *field = it->get<std::string>();
  }
  auto time = object.find("time");
  auto when = time != object.end() && time->is_string() ? parse_time(time->get<std::string>())
                                                        : std::nullopt;
  if (!when) {
    return fail("event {} has no valid 'time'", event.id);
  }
  event.time = *when;
  auto data = object.find("data");
  if (data == object.end() || !data->is_object()) {
    return fail("event {} has no 'data' object", event.id);
  }
  event.data = *data;
  return event;
}

EventLine describe_event(const Event& event) {
  const json& data = event.data;
  const std::string by = event.actor.empty() ? "" : " by " + event.actor;
  const std::string key = event.resource + "." + event.action;
  long version = number_of(data, "version");
  if (key == "release.created") {
    return {"slipway[api]",
            fmt::format("Release v{} created{}: {}", version, by, text_of(data, "description"))};
  }
  if (key == "release.succeeded") {
    return {"slipway[api]", fmt::format("Release v{} succeeded: git moved {} to its commit",
                                        version, text_of(data, "branch"))};
  }
  if (key == "release.failed") {
    return {"slipway[api]",
            fmt::format("Release v{} failed: {}", version, text_of(data, "reason"))};
  }
  if (key == "release.script_succeeded" || key == "release.script_failed") {
    return {"slipway[api]",
            key == "release.script_succeeded"
                ? fmt::format("app.json {} of v{} succeeded", text_of(data, "script"), version)
                : fmt::format("app.json {} of v{} failed: {}", text_of(data, "script"), version,
                              text_of(data, "reason"))};
  }
  if (key == "release.rolled_back") {
    return {"slipway[api]",
            fmt::format("Rolled back v{}: {}; {}", version, text_of(data, "reason"),
                        data.contains("live") ? fmt::format("v{} is live", number_of(data, "live"))
                                              : std::string("no release is live"))};
  }
  if (key == "config.changed") {
    std::string set = name_list(data.value("set", json::array()));
    std::string unset = name_list(data.value("unset", json::array()));
    return {"slipway[api]",
            fmt::format("Config changed{}:{}{}", by, set.empty() ? "" : " set " + set,
                        unset.empty() ? "" : (set.empty() ? " unset " : "; unset ") + unset)};
  }
  if (key == "maintenance.enabled") {
    return {"slipway[api]",
            fmt::format("Maintenance mode on{}: the router answers every request with 503", by)};
  }
  if (key == "maintenance.disabled") {
    return {"slipway[api]",
            fmt::format("Maintenance mode off{}: requests reach the app again", by)};
  }
  if (event.resource == "dyno") {
    std::string message = text_of(data, "message"); // why it is restarted (dyno.unhealthy)
    return {fmt::format("slipway[{}]", text_of(data, "dyno")),
            message.empty() ? fmt::format("State changed from {} to {}", text_of(data, "from"),
                                          text_of(data, "to"))
                            : message};
  }
  if (key == "build.started") {
    return {"slipway[api]", fmt::format("Build {} started{} from {}", number_of(data, "build"), by,
                                        text_of(data, "commit").substr(0, 7))};
  }
  if (key == "build.succeeded" || key == "build.failed") {
    return {"slipway[api]",
            fmt::format("Build {} {}{}", number_of(data, "build"), event.action,
                        data.contains("reason") ? ": " + text_of(data, "reason") : std::string())};
  }
  // The others carry the sentence their change reads as.
  std::string message = text_of(data, "message");
  return {"slipway[api]",
          message.empty() ? fmt::format("{} {}{}", event.resource, event.action, by) : message};
}

std::string local_actor() {
  if (const char* user = std::getenv("SLIPWAY_USER"); user && *user) {
    return user;
  }
  if (const passwd* entry = getpwuid(geteuid())) {
    return entry->pw_name;
  }
  return fmt::format("uid {}", geteuid());
}

Expected<Event> record_event(const Layout& layout, const Config& config, Event event) {
  std::error_code ec;
  fs::create_directories(layout.events_dir(), ec);
  auto lock = TRY(FileLock::acquire(layout.events_lock(), FileLock::Mode::exclusive));
  fs::path file = layout.events_file();
  struct stat info {};
  if (stat(file.c_str(), &info) == 0 && static_cast<std::uint64_t>(info.st_size) >= k_events_size) {
    fs::rename(file, layout.rotated_events_file(), ec);
    if (ec) {
      return fail("cannot rotate '{}': {}", file.string(), ec.message());
    }
  }
  auto last = last_id_in(file);
  if (!last) {
    last = last_id_in(layout.rotated_events_file());
  }
  event.id = last.value_or(0) + 1;
  event.time = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  UniqueFd fd(open(file.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) {
    return fail("cannot open '{}': {}", file.string(), errno_text(errno));
  }
  std::string line = event_json(event).dump(-1, ' ', false, json::error_handler_t::replace);
  line.push_back('\n');
  // A line torn by a writer that was killed: this event starts on a line of its own.
  char end = '\n';
  if (fstat(fd.get(), &info) == 0 && info.st_size > 0 &&
      pread(fd.get(), &end, 1, info.st_size - 1) == 1 && end != '\n') {
    line.insert(line.begin(), '\n');
  }
  if (auto written = write_all(fd.get(), line); !written) {
    return fail("cannot record an event in '{}': {}", file.string(), written.error().message);
  }
  if (!event.app.empty()) {
    auto [source, text] = describe_event(event);
    AppLog(layout.log_dir(event.app), config.runtime.log_size).append(source, text);
  }
  return event;
}

namespace {

// The events of one file that `query` selects (without its limit), and warnings for the lines
// skipped.
void read_events_in(const fs::path& file, const EventQuery& query, EventPage& page) {
  auto text = read_file(file);
  if (!text) {
    return;
  }
  for (auto [line, number] : split_lines(*text)) {
    auto event = parse_event(line);
    if (!event) {
      page.warnings.push_back(
          fmt::format("{} line {}: {}; skipped", file.string(), number, event.error().message));
      continue;
    }
    if (selected(*event, query)) {
      page.events.push_back(std::move(*event));
    }
  }
}

bool valid_subscriber_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
}

} // namespace

EventPage read_events(const Layout& layout, const EventQuery& query) {
  EventPage page;
  read_events_in(layout.rotated_events_file(), query, page);
  read_events_in(layout.events_file(), query, page);
  if (query.limit > 0 && page.events.size() > query.limit) {
    page.events.erase(page.events.begin(),
                      page.events.end() - static_cast<std::ptrdiff_t>(query.limit));
  }
  return page;
}

std::uint64_t last_event_id(const Layout& layout) {
  if (auto last = last_id_in(layout.events_file())) {
    return *last;
  }
  return last_id_in(layout.rotated_events_file()).value_or(0);
}

EventFollower::EventFollower(const Layout& layout, std::uint64_t after)
    : m_layout(layout), m_seen(after), m_lines(layout.events_file(), true) {}

std::vector<Event> EventFollower::poll(const std::function<void(const std::string&)>& on_warning) {
  const fs::path file = m_layout.events_file();
  std::vector<Event> fresh;
  std::optional<std::uint64_t> first; // the first event of the file read, on the first poll
  m_lines.poll([&](std::string_view line) {
    auto event = parse_event(line);
    if (!event) {
      on_warning(fmt::format("{}: {}; skipped", file.string(), event.error().message));
      return;
    }
    if (!first) {
      first = event->id;
    }
    if (event->id > m_seen && (fresh.empty() || event->id > fresh.back().id)) {
      fresh.push_back(std::move(*event));
    }
  });
  if (!m_caught_up) {
    m_caught_up = true;
    // What was recorded after `after` but before the file read began is in the rotated one.
    if (!first || *first > m_seen + 1) {
      EventPage older;
      read_events_in(m_layout.rotated_events_file(), {.since = m_seen, .limit = 0}, older);
      for (const auto& warning : older.warnings) {
        on_warning(warning);
      }
      std::erase_if(older.events, [&](const Event& event) {
        return !fresh.empty() && event.id >= fresh.front().id;
      });
      fresh.insert(fresh.begin(), std::make_move_iterator(older.events.begin()),
                   std::make_move_iterator(older.events.end()));
    }
  }
  if (!fresh.empty()) {
    m_seen = fresh.back().id;
  }
  return fresh;
}

Expected<std::optional<std::uint64_t>> read_event_cursor(const Layout& layout,
                                                         const std::string& name) {
  fs::path file = layout.event_cursor(name);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return std::nullopt;
  }
  auto text = TRY(read_file(file));
  std::uint64_t id = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end == text.data() || std::string_view(end) != "\n") {
    return fail("'{}' is not an event id and a newline", file.string());
  }
  return id;
}

Expected<void> write_event_cursor(const Layout& layout, const std::string& name, std::uint64_t id) {
  fs::path file = layout.event_cursor(name);
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  return write_file_atomic(file, fmt::format("{}\n", id), 0600);
}

EventSubscription::EventSubscription(const Layout& layout, std::string name, std::uint64_t cursor)
    : m_layout(layout), m_name(std::move(name)), m_cursor(cursor),
      m_follower(std::make_unique<EventFollower>(layout, cursor)) {}

Expected<EventSubscription>
EventSubscription::open(const Layout& layout, std::string name,
                        const std::function<void(const std::string&)>& on_warning) {
  if (!valid_subscriber_name(name)) {
    return fail("invalid event subscriber name '{}'", name);
  }
  auto cursor = TRY(read_event_cursor(layout, name));
  std::uint64_t newest = last_event_id(layout);
  if (!cursor) {
    TRY(write_event_cursor(layout, name, newest));
    cursor = newest;
  } else if (*cursor > newest) {
    on_warning(fmt::format("events: the newest event is {} but {} handled {}: the stream began "
                           "again, so {} starts over",
                           newest, name, *cursor, name));
    TRY(write_event_cursor(layout, name, 0));
    cursor = 0;
  }
  return EventSubscription(layout, std::move(name), *cursor);
}

std::vector<Event>
EventSubscription::poll(const std::function<void(const std::string&)>& on_warning) {
  return m_follower->poll(on_warning);
}

Expected<void> EventSubscription::handled(std::uint64_t id) {
  if (id <= m_cursor) {
    return {};
  }
  TRY(write_event_cursor(m_layout, m_name, id));
  m_cursor = id;
  return {};
}

void follow_events(const Layout& layout, const EventQuery& query, std::uint64_t after,
                   const std::function<void(const Event&)>& on_event,
                   const std::function<void(const std::string&)>& on_warning,
                   const std::atomic<bool>& stop) {
  // From the file's start, skipping what was already seen: nothing recorded between the
  // caller's read and this call is missed.
  EventFollower follower(layout, after);
  while (!stop) {
    for (const auto& event : follower.poll(on_warning)) {
      if (selected(event, query)) {
        on_event(event);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

} // namespace slipway

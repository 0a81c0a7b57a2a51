#include "runtime/push_inflight.hpp"

#include <sstream>

#include <toml++/toml.h>

#include "common/files.hpp"

namespace slipway {

namespace fs = std::filesystem;

Expected<void> write_push_inflight(const Layout& layout, const std::string& app,
                                   const PushInFlight& push) {
  toml::table table{{"ref", push.ref},    {"old", push.old_id},
                    {"new", push.new_id}, {"version", push.version},
                    {"pid", push.pid},    {"start_time", static_cast<int64_t>(push.start_time)}};
  if (push.previous) {
    table.insert("previous", *push.previous);
  }
  std::ostringstream out;
  out << table << "\n";
  return write_file_atomic(layout.push_inflight(app), out.str(), 0600);
}

Expected<std::optional<PushInFlight>> read_push_inflight(const Layout& layout,
                                                         const std::string& app) {
  fs::path file = layout.push_inflight(app);
  std::error_code ec;
  if (!fs::exists(file, ec)) {
    return std::optional<PushInFlight>();
  }
  auto text = TRY(read_file(file));
  toml::table table;
  try {
    table = toml::parse(text, file.string());
  } catch (const toml::parse_error& error) {
    return fail("'{}' is corrupt: {}", file.string(), error.description());
  }
  PushInFlight push;
  auto ref = table["ref"].value<std::string>();
  auto old_id = table["old"].value<std::string>();
  auto new_id = table["new"].value<std::string>();
  auto version = table["version"].value<int64_t>();
  auto pid = table["pid"].value<int64_t>();
  auto start = table["start_time"].value<int64_t>();
  if (!ref || !ref->starts_with("refs/heads/") || !old_id || !new_id || new_id->size() != 40 ||
      !version || *version < 1 || !pid || !start) {
    return fail("'{}' is corrupt: it lacks ref, old, new, version, pid or start_time",
                file.string());
  }
  push.ref = *ref;
  push.old_id = *old_id;
  push.new_id = *new_id;
  push.version = static_cast<int>(*version);
  push.pid = static_cast<int>(*pid);
  push.start_time = static_cast<long>(*start);
  if (auto previous = table["previous"].value<int64_t>()) {
    push.previous = static_cast<int>(*previous);
  }
  return std::optional<PushInFlight>(std::move(push));
}

void remove_push_inflight(const Layout& layout, const std::string& app) {
  std::error_code ec;
  fs::remove(layout.push_inflight(app), ec);
}

} // namespace slipway

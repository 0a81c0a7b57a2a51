// What cluster/swarm.cpp and cluster/swarm_tasks.cpp share, and no one else: the labels that
// mark slipway's objects on a swarm, and reading them off the Engine API's answers without
// trusting their shape.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/time.hpp"

namespace slipway::cluster::swarm {

using nlohmann::json;

inline constexpr std::string_view k_app_label = "io.slipway.app";
inline constexpr std::string_view k_release_label = "io.slipway.release";
inline constexpr std::string_view k_type_label = "io.slipway.type";
inline constexpr std::string_view k_oneoff_label = "io.slipway.oneoff";
inline constexpr std::string_view k_secret_file = "slipway-config"; // /run/secrets/slipway-config
inline constexpr auto k_poll = std::chrono::milliseconds(200);

inline std::int64_t nanoseconds(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

inline std::string label(std::string_view key, std::string_view value) {
  return fmt::format("{}={}", key, value);
}

// Docker's RFC 3339 times drop trailing zeros of the fraction; with nine digits always they
// order as strings do.
inline std::string normalize_time(std::string_view time) {
  if (time.size() < 20 || !time.ends_with('Z')) {
    return std::string(time);
  }
  std::string_view whole = time.substr(0, 19);
  std::string fraction;
  if (time.size() > 20 && time[19] == '.') {
    fraction = std::string(time.substr(20, time.size() - 21));
  }
  fraction.resize(9, '0');
  return fmt::format("{}.{}Z", whole, fraction.substr(0, 9));
}

// "2026-12-04T09:00:00.5Z" as whole seconds since the epoch, for a `since` query; 0 if it
// is not such a time.
inline long unix_seconds(std::string_view time) {
  std::tm tm{};
  if (std::sscanf(std::string(time).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long>(timegm(&tm));
}

inline std::optional<TimePoint> parse_docker_time(std::string_view time) {
  long seconds = unix_seconds(time);
  if (seconds <= 0) {
    return std::nullopt;
  }
  return TimePoint(std::chrono::seconds(seconds));
}

// A member of a JSON answer by its path, or null when any step is missing: the engine's
// answers are read without trusting their shape (a const json's operator[] would be undefined
// for a missing key, and get<> throws).
inline const json& at(const json& object, std::initializer_list<std::string_view> path) {
  static const json none;
  const json* here = &object;
  for (std::string_view key : path) {
    if (!here->is_object()) {
      return none;
    }
    auto found = here->find(key);
    if (found == here->end()) {
      return none;
    }
    here = &*found;
  }
  return *here;
}

inline std::string text(const json& object, std::initializer_list<std::string_view> path) {
  const json& value = at(object, path);
  return value.is_string() ? value.get<std::string>() : "";
}

inline long number(const json& object, std::initializer_list<std::string_view> path,
                   long fallback = 0) {
  const json& value = at(object, path);
  return value.is_number_integer() ? value.get<long>() : fallback;
}

inline std::string label_of(const json& object, std::string_view key) {
  return text(object, {"Spec", "Labels", key});
}

inline int int_label(const json& object, std::string_view key) {
  std::string text = label_of(object, key);
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}

// A task's end, as Swarm says it: its error, else its message.
inline std::string task_message(const json& task) {
  std::string error = text(task, {"Status", "Err"});
  return error.empty() ? text(task, {"Status", "Message"}) : error;
}

} // namespace slipway::cluster::swarm

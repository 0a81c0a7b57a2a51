#include "common/time.hpp"

#include <ctime>
#include <sstream>

#include <fmt/format.h>

namespace slipway {

toml::date_time to_toml_time(TimePoint when) {
  std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return toml::date_time(toml::date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday),
                         toml::time(static_cast<std::uint8_t>(tm.tm_hour),
                                    static_cast<std::uint8_t>(tm.tm_min),
                                    static_cast<std::uint8_t>(tm.tm_sec)),
                         toml::time_offset(0, 0));
}

TimePoint from_toml_time(const toml::date_time& when) {
  std::tm tm{};
  tm.tm_year = when.date.year - 1900;
  tm.tm_mon = when.date.month - 1;
  tm.tm_mday = when.date.day;
  tm.tm_hour = when.time.hour;
  tm.tm_min = when.time.minute;
  tm.tm_sec = when.time.second;
  auto point = std::chrono::system_clock::from_time_t(timegm(&tm));
  if (when.offset) {
    point -= std::chrono::minutes(when.offset->minutes);
  }
  return point;
}

std::string format_time(TimePoint when) {
  std::ostringstream out;
  out << to_toml_time(when);
  return out.str();
}

std::string format_duration(std::chrono::milliseconds duration) {
  using namespace std::chrono;
  auto ms = duration.count();
  if (ms % 1000 != 0) {
    return fmt::format("{}ms", ms);
  }
  auto s = ms / 1000;
  std::string text;
  if (s >= 3600) {
    text += fmt::format("{}h", s / 3600);
    s %= 3600;
  }
  if (s >= 60) {
    text += fmt::format("{}m", s / 60);
    s %= 60;
  }
  if (s > 0 || text.empty()) {
    text += fmt::format("{}s", s);
  }
  return text;
}

} // namespace slipway

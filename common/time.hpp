// Timestamps as slipway writes them: UTC, whole seconds, "2026-11-26T07:00:00Z"; and
// durations, "1h30m".
#pragma once

#include <chrono>
#include <string>

#include <toml++/toml.h>

namespace slipway {

using TimePoint = std::chrono::system_clock::time_point;

toml::date_time to_toml_time(TimePoint when);
TimePoint from_toml_time(const toml::date_time& when);
std::string format_time(TimePoint when);

// "15m", "1h30m", "90s", "250ms" — the inverse of parse_duration in config.hpp.
std::string format_duration(std::chrono::milliseconds duration);

} // namespace slipway

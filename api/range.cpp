#include "api/range.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace slipway::api {

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

bool is_number(std::string_view text) {
  return !text.empty() && text.size() <= 18 &&
         std::ranges::all_of(text, [](char c) { return c >= '0' && c <= '9'; });
}

// The fields whose values are counts (a release's version, a test run's number), compared
// as numbers so that 10 comes after 9.
bool numeric(std::string_view field) {
  return field == "version" || field == "number";
}

long long to_number(std::string_view text) {
  long long value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

} // namespace

Expected<Range> parse_range(std::string_view header, std::span<const std::string_view> fields) {
  Range range{.field = std::string(fields.front())};
  header = trim(header);
  if (header.empty()) {
    return range;
  }
  if (header.size() > 1024) {
    return usage_error("the Range header is too long");
  }
  // "FIELD [START]..[END]; OPTIONS"
  auto space = header.find_first_of(" \t");
  std::string_view field = header.substr(0, space);
  if (std::ranges::find(fields, field) == fields.end()) {
    return usage_error("cannot sort this list by '{}' (Range by {})", field.substr(0, 32),
                       fmt::join(fields, " or "));
  }
  range.field = std::string(field);
  std::string_view rest = space == std::string_view::npos ? "" : trim(header.substr(space));
  auto semicolon = rest.find(';');
  std::string_view bounds = trim(rest.substr(0, semicolon));
  std::string_view options =
      semicolon == std::string_view::npos ? "" : trim(rest.substr(semicolon + 1));
  if (!bounds.empty()) {
    auto dots = bounds.find("..");
    if (dots == std::string_view::npos) {
      return usage_error("a Range's bounds are START..END (either may be empty), not '{}'",
                         bounds.substr(0, 64));
    }
    std::string_view start = bounds.substr(0, dots);
    std::string_view end = bounds.substr(dots + 2);
    if (start.starts_with(']')) {
      range.exclusive = true;
      start.remove_prefix(1);
    }
    if (!start.empty()) {
      range.start = std::string(start);
    }
    if (!end.empty()) {
      range.end = std::string(end);
    }
    if (numeric(range.field) &&
        ((range.start && !is_number(*range.start)) || (range.end && !is_number(*range.end)))) {
      return usage_error("a {} range's bounds are numbers", range.field);
    }
  }
  // "max=15, order=desc" or "order=desc,max=1" or "max=1000;"
  while (!options.empty()) {
    auto stop = options.find_first_of(",;");
    std::string_view option = trim(options.substr(0, stop));
    options = stop == std::string_view::npos ? "" : options.substr(stop + 1);
    if (option.empty()) {
      continue;
    }
    auto equals = option.find('=');
    std::string_view name = trim(option.substr(0, equals));
    std::string_view value =
        equals == std::string_view::npos ? "" : trim(option.substr(equals + 1));
    if (name == "max") {
      if (!is_number(value) || to_number(value) < 1 ||
          to_number(value) > static_cast<long long>(k_max_page)) {
        return usage_error("a Range's max is a number from 1 to {}", k_max_page);
      }
      range.max = static_cast<std::size_t>(to_number(value));
    } else if (name == "order") {
      if (value != "asc" && value != "desc") {
        return usage_error("a Range's order is asc or desc, not '{}'", value.substr(0, 32));
      }
      range.descending = value == "desc";
    } else {
      return usage_error("unknown Range option '{}' (max, order)", name.substr(0, 32));
    }
  }
  return range;
}

std::string next_range(const Range& range, std::string_view last) {
  return fmt::format("{} ]{}..{}; max={}{}", range.field, last, range.end.value_or(""), range.max,
                     range.descending ? ", order=desc" : "");
}

int compare_range_values(const Range& range, std::string_view a, std::string_view b) {
  if (numeric(range.field) && is_number(a) && is_number(b)) {
    long long x = to_number(a);
    long long y = to_number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a.compare(b) < 0 ? -1 : a.compare(b) > 0 ? 1 : 0;
}

} // namespace slipway::api

// The Platform API's pagination: the `Range` request header and the `Next-Range` answer.
//   Range: version ..; max=15, order=desc      (the heroku CLI's `releases`)
//   Range: version ]3..; max=10                (the next page: after version 3)
//   Range: id ..; max=1000;                    (separators are forgiving: ',' or ';')
// A list sorted by the range's field is cut to at most `max` items starting at `start`; a
// cut list is answered with 206 Partial Content and a Next-Range that continues after its
// last item.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace slipway::api {

inline constexpr std::size_t k_default_page = 200; // Heroku's
inline constexpr std::size_t k_max_page = 1000;    // Heroku's

struct Range {
  std::string field;                // "id", "name", "version"
  std::optional<std::string> start; // the first value (or the one before it: `exclusive`)
  bool exclusive = false;           // "]VALUE.."
  std::optional<std::string> end;   // the last value, inclusive
  std::size_t max = k_default_page;
  bool descending = false;
};

// Parses a Range header. `fields` are the ones the resource sorts by; the first is the
// default when the header is empty. The error names what is wrong.
Expected<Range> parse_range(std::string_view header, std::span<const std::string_view> fields);

// The Next-Range header that continues after `last` (the last item's value of the field).
std::string next_range(const Range& range, std::string_view last);

// How two values of the range's field compare (versions and numbers as numbers, others as text):
// <0, 0, >0.
int compare_range_values(const Range& range, std::string_view a, std::string_view b);

// The page of `items` (any order) that `range` selects, in the range's order, and whether
// items are left after it. `value` gives an item's value of the range's field.
template <class T>
struct Page {
  std::vector<T> items;
  bool more = false;
};
template <class T>
Page<T> paginate(std::vector<T> items, const Range& range,
                 const std::function<std::string(const T&)>& value) {
  std::vector<std::pair<std::string, T>> keyed;
  keyed.reserve(items.size());
  for (auto& item : items) {
    keyed.emplace_back(value(item), std::move(item));
  }
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    int order = compare_range_values(range, a.first, b.first);
    return range.descending ? order > 0 : order < 0;
  });
  Page<T> page;
  for (auto& [key, item] : keyed) {
    if (range.start) {
      int from = compare_range_values(range, key, *range.start);
      if (range.descending ? (from > 0 || (range.exclusive && from == 0))
                           : (from < 0 || (range.exclusive && from == 0))) {
        continue;
      }
    }
    if (range.end) {
      int to = compare_range_values(range, key, *range.end);
      if (range.descending ? to < 0 : to > 0) {
        continue;
      }
    }
    if (page.items.size() == range.max) {
      page.more = true;
      break;
    }
    page.items.push_back(std::move(item));
  }
  return page;
}

} // namespace slipway::api

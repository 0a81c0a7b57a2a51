#include "api/routing.hpp"

#include <charconv>

#include "api/endpoints.hpp"

namespace slipway::api {

namespace {

// `raw` with its %XX escapes decoded (and '+' as a space, in a query); nullopt when an
// escape is malformed.
std::optional<std::string> percent_decode(std::string_view raw, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%') {
      unsigned byte = 0;
      if (raw.size() - i < 3) {
        return std::nullopt;
      }
      auto [ptr, ec] = std::from_chars(raw.data() + i + 1, raw.data() + i + 3, byte, 16);
      if (ec != std::errc() || ptr != raw.data() + i + 3) {
        return std::nullopt;
      }
      out.push_back(static_cast<char>(byte));
      i += 2;
    } else {
      out.push_back(plus_is_space && raw[i] == '+' ? ' ' : raw[i]);
    }
  }
  return out;
}

} // namespace

std::optional<std::vector<std::string>> path_segments(std::string_view path) {
  std::vector<std::string> segments;
  while (!path.empty()) {
    if (path.front() != '/') {
      return std::nullopt;
    }
    path.remove_prefix(1);
    auto end = path.find('/');
    std::string_view raw = path.substr(0, end);
    path = end == std::string_view::npos ? "" : path.substr(end);
    auto segment = percent_decode(raw, false);
    // A parameter never holds a '/' or a NUL, even encoded.
    if (!segment || segment->find_first_of(std::string_view("/\0", 2)) != std::string::npos) {
      return std::nullopt;
    }
    if (!segment->empty() || !path.empty()) {
      segments.push_back(std::move(*segment));
    }
  }
  return segments;
}

std::optional<std::vector<std::string>> match(std::string_view pattern,
                                              const std::vector<std::string>& segments) {
  std::vector<std::string> params;
  std::size_t i = 0;
  while (!pattern.empty()) {
    pattern.remove_prefix(1); // '/'
    auto end = pattern.find('/');
    std::string_view expected = pattern.substr(0, end);
    pattern = end == std::string_view::npos ? "" : pattern.substr(end);
    if (i == segments.size()) {
      return std::nullopt;
    }
    if (expected == "{}") {
      if (segments[i].empty()) {
        return std::nullopt;
      }
      params.push_back(segments[i]);
    } else if (expected != segments[i]) {
      return std::nullopt;
    }
    ++i;
  }
  if (i != segments.size()) {
    return std::nullopt;
  }
  return params;
}

std::optional<std::string> query_value(std::string_view target, std::string_view name) {
  auto question = target.find('?');
  if (question == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    auto equals = pair.find('=');
    if (pair.substr(0, equals) != name) {
      continue;
    }
    std::string_view raw = equals == std::string_view::npos ? "" : pair.substr(equals + 1);
    return percent_decode(raw, true);
  }
  return std::nullopt;
}

} // namespace slipway::api

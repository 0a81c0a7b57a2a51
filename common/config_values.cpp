// The values slipway.toml's keys take, which other parts check too: durations, sizes, host
// names, branch names, listen addresses (declared in config.hpp).
#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <charconv>
#include <cmath>

#include "common/config.hpp"

namespace slipway {

Expected<std::pair<std::string, int>> parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  int port = -1;
  if (colon != std::string_view::npos) {
    auto digits = text.substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
      port = -1;
    }
  }
  std::string address(text.substr(0, colon == std::string_view::npos ? 0 : colon));
  in_addr parsed{};
  if (port < 0 || port > 65535 || inet_pton(AF_INET, address.c_str(), &parsed) != 1) {
    return fail("'{}' is not ADDRESS:PORT with an IPv4 address and a port 0-65535 (0: any free "
                "port)",
                text);
  }
  return std::pair(address, port);
}

Expected<std::chrono::milliseconds> parse_duration(std::string_view text) {
  using std::chrono::milliseconds;
  static const std::map<std::string_view, long> units = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  if (text.empty()) {
    return fail("malformed duration '' (expected e.g. \"15m\", \"1h30m\", \"90s\")");
  }
  long total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    long value = 0;
    // from_chars would take a '-' sign: a duration has digits only.
    bool digit = std::isdigit(static_cast<unsigned char>(rest.front())) != 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    std::size_t digits = static_cast<std::size_t>(end - rest.data());
    if (!digit || ec != std::errc() || digits == 0) {
      return fail("malformed duration '{}' (expected e.g. \"15m\", \"1h30m\", \"90s\")", text);
    }
    rest.remove_prefix(digits);
    std::size_t unit_length = 0;
    while (unit_length < rest.size() &&
           std::isalpha(static_cast<unsigned char>(rest[unit_length]))) {
      ++unit_length;
    }
    auto unit = units.find(rest.substr(0, unit_length));
    if (unit == units.end()) {
      return fail("malformed duration '{}' (units are ms, s, m, h, d)", text);
    }
    long part = 0;
    if (__builtin_mul_overflow(value, unit->second, &part) ||
        __builtin_add_overflow(total, part, &total)) {
      return fail("duration '{}' is too long", text);
    }
    rest.remove_prefix(unit_length);
  }
  return milliseconds(total);
}

Expected<std::uint64_t> parse_size(std::string_view text) {
  static const std::map<std::string_view, std::uint64_t> units = {{"", 1},
                                                                  {"B", 1},
                                                                  {"K", 1ull << 10},
                                                                  {"KB", 1ull << 10},
                                                                  {"KiB", 1ull << 10},
                                                                  {"M", 1ull << 20},
                                                                  {"MB", 1ull << 20},
                                                                  {"MiB", 1ull << 20},
                                                                  {"G", 1ull << 30},
                                                                  {"GB", 1ull << 30},
                                                                  {"GiB", 1ull << 30},
                                                                  {"T", 1ull << 40},
                                                                  {"TB", 1ull << 40},
                                                                  {"TiB", 1ull << 40}};
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  // from_chars would also take a sign, "inf" and "nan": a size is digits and a '.' only.
  if (ec != std::errc() || end == text.data() ||
      !(std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '.')) {
    return fail("malformed size '{}' (expected e.g. \"500MB\", \"1.5GB\")", text);
  }
  auto unit = units.find(std::string_view(end, text.data() + text.size() - end));
  if (unit == units.end()) {
    return fail("malformed size '{}' (units are B, KB, MB, GB, TB)", text);
  }
  double bytes = std::round(value * static_cast<double>(unit->second));
  if (bytes >= 0x1p64) {
    return fail("size '{}' is too large", text);
  }
  return static_cast<std::uint64_t>(bytes);
}

Expected<void> check_host_name(std::string_view host, int min_labels) {
  if (host.empty() || host.size() > 253) {
    return fail("a host name has 1 to 253 characters");
  }
  int labels = 0;
  for (std::size_t start = 0;; ++labels) {
    auto dot = host.find('.', start);
    std::string_view label =
        host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) {
      return fail("each dot-separated label has 1 to 63 characters");
    }
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        return fail("use lowercase letters, digits, '-' and '.'");
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return fail("a label cannot start or end with '-'");
    }
    if (dot == std::string_view::npos) {
      ++labels;
      break;
    }
    start = dot + 1;
  }
  if (labels < min_labels) {
    return fail("name a host such as www.example.com");
  }
  return {};
}

bool is_under_domain(std::string_view host, std::string_view domain) {
  return host == domain || (host.size() > domain.size() && host.ends_with(domain) &&
                            host[host.size() - domain.size() - 1] == '.');
}

bool is_commit_id(std::string_view text) {
  return text.size() == 40 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool is_branch_name(std::string_view name) {
  // The subset of git's ref name rules a deploy branch needs: no "..", no leading or
  // trailing '/', '.' or '-', no control characters or git's special characters.
  if (name.empty() || name.size() > 200 || name.find("..") != std::string_view::npos ||
      name.find("//") != std::string_view::npos || name.find("@{") != std::string_view::npos ||
      name.front() == '/' || name.front() == '.' || name.front() == '-' || name.back() == '/' ||
      name.back() == '.' || name.ends_with(".lock")) {
    return false;
  }
  return std::ranges::none_of(name, [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '~' || c == '^' || c == ':' ||
           c == '?' || c == '*' || c == '[' || c == '\\';
  });
}

std::string format_size(std::uint64_t bytes) {
  if (bytes < 1024) {
    return fmt::format("{}B", bytes);
  }
  static constexpr std::array<std::string_view, 3> units = {"KB", "MB", "GB"};
  double value = static_cast<double>(bytes) / 1024;
  std::size_t unit = 0;
  // Up a unit when one decimal would round to 1024.0 in this one.
  while (unit + 1 < units.size() && value >= 1023.95) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f}{}", value, units[unit]);
}

} // namespace slipway

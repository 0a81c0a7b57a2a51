#include "hooks/ref_update.hpp"

#include <algorithm>

#include "common/lines.hpp"

namespace slipway {

namespace {

bool is_object_id(std::string_view id) {
  return (id.size() == 40 || id.size() == 64) && std::ranges::all_of(id, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool all_zero(std::string_view id) {
  return std::ranges::all_of(id, [](char c) { return c == '0'; });
}

} // namespace

bool RefUpdate::is_deletion() const {
  return all_zero(new_id);
}

bool RefUpdate::is_creation() const {
  return all_zero(old_id);
}

Expected<std::vector<RefUpdate>> parse_ref_updates(std::string_view input) {
  std::vector<RefUpdate> updates;
  for (auto [line, number] : split_lines(input)) {
    auto first = line.find(' ');
    auto second = first == std::string_view::npos ? first : line.find(' ', first + 1);
    if (second == std::string_view::npos) {
      return fail("hook input line {}: expected 'OLD NEW REF', got '{}'", number, line);
    }
    RefUpdate update{std::string(line.substr(0, first)),
                     std::string(line.substr(first + 1, second - first - 1)),
                     std::string(line.substr(second + 1))};
    if (!is_object_id(update.old_id) || !is_object_id(update.new_id) ||
        update.old_id.size() != update.new_id.size()) {
      return fail("hook input line {}: malformed object ids in '{}'", number, line);
    }
    if (!update.ref.starts_with("refs/") ||
        update.ref.find_first_of(" \t\r") != std::string::npos) {
      return fail("hook input line {}: malformed ref name '{}'", number, update.ref);
    }
    updates.push_back(std::move(update));
  }
  return updates;
}

std::string describe_ref(std::string_view ref) {
  if (ref.starts_with("refs/heads/")) {
    return std::string(ref.substr(11));
  }
  if (ref.starts_with("refs/tags/")) {
    return "tag " + std::string(ref.substr(10));
  }
  return std::string(ref);
}

} // namespace slipway

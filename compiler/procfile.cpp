#include "compiler/procfile.hpp"

#include <algorithm>

#include "common/lines.hpp"
#include "common/output.hpp"

namespace slipway {

namespace {

bool contains(const ProcessTypes& types, std::string_view name) {
  return std::ranges::any_of(types, [&](const auto& type) { return type.first == name; });
}

} // namespace

bool is_process_type_name(std::string_view name) {
  return !name.empty() && std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Expected<void> check_process_command(std::string_view name, std::string_view command) {
  if (command.empty()) {
    return fail("process type '{}' has no command", name);
  }
  auto control = std::ranges::find_if(command, [](char c) {
    return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f;
  });
  if (control != command.end()) {
    return fail("the command of '{}' holds a control character ({})", name,
                printable(std::string_view(&*control, 1)));
  }
  if (!is_utf8(command)) {
    return fail("the command of '{}' is not UTF-8 ('{}')", name, printable(command));
  }
  return {};
}

Expected<ProcessTypes> parse_procfile(std::string_view text) {
  ProcessTypes types;
  for (auto [raw, number] : split_lines(text)) {
    if (!raw.empty() && raw.back() == '\r') {
      raw.remove_suffix(1);
    }
    std::string_view line = trim(raw);
    if (line.empty() || line.front() == '#') {
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      return fail("Procfile line {}: malformed entry '{}' (expected 'name: command')", number,
                  printable(line));
    }
    std::string_view name = trim(line.substr(0, colon));
    std::string_view command = trim(line.substr(colon + 1));
    if (!is_process_type_name(name)) {
      return fail("Procfile line {}: invalid process type name '{}' (use letters, digits, _ "
                  "and -)",
                  number, printable(name));
    }
    if (auto checked = check_process_command(name, command); !checked) {
      return prefixed(checked.error(), fmt::format("Procfile line {}", number));
    }
    if (contains(types, name)) {
      return fail("Procfile line {}: duplicate process type '{}'", number, name);
    }
    types.emplace_back(name, command);
  }
  return types;
}

void merge_defaults(ProcessTypes& types, const ProcessTypes& defaults) {
  for (const auto& [name, command] : defaults) {
    if (!contains(types, name)) {
      types.emplace_back(name, command);
    }
  }
}

} // namespace slipway

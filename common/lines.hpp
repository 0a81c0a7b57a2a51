// Line-oriented input (Procfile, .slugignore, .buildpacks, git's hook input): the text
// split at '\n', each line numbered from 1 for messages. A final line without '\n' counts;
// a trailing '\r' is kept for the parser to judge.
#pragma once

#include <string_view>
#include <vector>

namespace slipway {

struct Line {
  std::string_view text;
  int number;
};

inline std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> lines;
  int number = 0;
  while (!text.empty()) {
    auto newline = text.find('\n');
    lines.push_back({text.substr(0, newline), ++number});
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
  }
  return lines;
}

// `s` without the leading and trailing characters of `blanks`.
inline std::string_view trim(std::string_view s, std::string_view blanks = " \t") {
  auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(blanks) - first + 1);
}

} // namespace slipway

#include "compiler/tap.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include <climits>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/lines.hpp"
#include "common/output.hpp"

namespace slipway {

namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_any_case(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::ranges::equal(text.substr(0, prefix.size()), prefix,
                            [](char a, char b) { return lower(a) == lower(b); });
}

// `text` starts with the word `word`, in any case: not followed by a letter, digit or _.
bool starts_with_word(std::string_view text, std::string_view word) {
  return starts_with_any_case(text, word) &&
         (text.size() == word.size() || !is_word_char(text[word.size()]));
}

// A whole number of digits only that fits an int.
std::optional<int> whole_number(std::string_view digits) {
  int value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      !std::ranges::all_of(digits, [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return value;
}

enum class Directive { none, skip, todo };

// The directive of a test point (the text after "ok" or "not ok"): the first '#' that no
// backslash escapes and that SKIP, SKIPPED or TODO follows, in any case.
Directive directive(std::string_view point) {
  for (std::size_t i = 0; i < point.size(); ++i) {
    if (point[i] == '\\') { // "\#" is a '#' in the description, "\\" a backslash
      ++i;
      continue;
    }
    if (point[i] != '#') {
      continue;
    }
    std::string_view word = trim(point.substr(i + 1));
    if (starts_with_word(word, "skip") || starts_with_word(word, "skipped")) {
      return Directive::skip;
    }
    if (starts_with_word(word, "todo")) {
      return Directive::todo;
    }
  }
  return Directive::none;
}

} // namespace

void TapParser::line(std::string_view line) {
  if (counts_.bailed_out) {
    return;
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
    line.remove_suffix(1);
  }
  // Blank, indented (YAML diagnostics, subtests) or a comment.
  if (line.empty() || line.front() == ' ' || line.front() == '\t' || line.front() == '#') {
    return;
  }

  bool ok = line.starts_with("ok");
  if (ok || line.starts_with("not ok")) {
    std::string_view point = line.substr(ok ? 2 : 6);
    if (!point.empty() && is_word_char(point.front())) {
      return; // "okay", "ok1", "not okay": not test points
    }
    switch (directive(point)) {
    case Directive::skip:
      ++counts_.skipped;
      break;
    case Directive::todo:
      ++counts_.todo;
      break;
    case Directive::none:
      ++(ok ? counts_.passed : counts_.failed);
      break;
    }
    return;
  }

  if (line.starts_with("1..")) {
    std::string_view rest = line.substr(3);
    std::size_t digits = std::min(rest.find_first_not_of("0123456789"), rest.size());
    auto planned = whole_number(rest.substr(0, digits));
    std::string_view comment = trim(rest.substr(digits));
    if (!planned || (!comment.empty() && comment.front() != '#')) {
      return; // "1..x", "1..3 tests": not a plan
    }
    counts_.planned = static_cast<int>(
        std::min<long long>(INT_MAX, 0LL + counts_.planned.value_or(0) + *planned));
    if (*planned == 0 && !comment.empty()) {
      std::string_view reason = trim(comment.substr(1));
      for (std::string_view word : {"skipped", "skip"}) {
        if (starts_with_word(reason, word)) {
          reason = trim(reason.substr(word.size()), " \t:");
          break;
        }
      }
      counts_.skip_reason = std::string(reason);
    }
    return;
  }

  if (starts_with_any_case(line, "TAP version ")) {
    if (auto version = whole_number(trim(line.substr(12)))) {
      counts_.version = *version;
    }
    return;
  }

  if (starts_with_any_case(line, "Bail out!")) {
    counts_.bailed_out = true;
    counts_.bail_reason = std::string(trim(line.substr(9)));
  }
}

std::string tap_summary(const TapCounts& counts) {
  std::string summary;
  if (counts.total() == 0) {
    summary = counts.planned != 0          ? "no tests ran"
              : counts.skip_reason.empty() ? "all tests skipped"
                                           : "all tests skipped: " + printable(counts.skip_reason);
  } else {
    std::vector<std::string> parts;
    if (counts.failed > 0) {
      parts.push_back(fmt::format("{} of {} failed", counts.failed, counts.total()));
    } else if (counts.passed > 0 || (counts.skipped == 0 && counts.todo == 0)) {
      parts.push_back(fmt::format("{} passed", counts.passed));
    }
    if (counts.skipped > 0) {
      parts.push_back(fmt::format("{} skipped", counts.skipped));
    }
    if (counts.todo > 0) {
      parts.push_back(fmt::format("{} todo", counts.todo));
    }
    summary = fmt::format("{}", fmt::join(parts, ", "));
  }
  if (counts.planned && *counts.planned != counts.total()) {
    summary += fmt::format("; {} planned", *counts.planned);
  }
  if (counts.bailed_out) {
    summary += counts.bail_reason.empty() ? "; bailed out"
                                          : "; bailed out: " + printable(counts.bail_reason);
  }
  return summary;
}

} // namespace slipway

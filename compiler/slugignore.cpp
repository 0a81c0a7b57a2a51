#include "compiler/slugignore.hpp"

#include "common/lines.hpp"
#include "common/tree.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty()) {
      parts.push_back(part);
    }
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
  }
  return parts;
}

// Checks the glob syntax fnmatch would otherwise quietly treat as literal text.
Expected<void> check_glob(std::string_view segment) {
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '\\') {
      if (++i == segment.size()) {
        return fail("trailing '\\' escapes nothing");
      }
    } else if (segment[i] == '[') {
      std::size_t j = i + 1;
      if (j < segment.size() && (segment[j] == '!' || segment[j] == '^')) {
        ++j;
      }
      if (j < segment.size() && segment[j] == ']') {
        ++j;
      }
      while (j < segment.size() && segment[j] != ']') {
        j += segment[j] == '\\' ? 2 : 1;
      }
      if (j >= segment.size()) {
        return fail("unterminated '['");
      }
      i = j;
    }
  }
  if (segment == "..") {
    return fail("'..' cannot name anything inside the app");
  }
  return {};
}

// Whether the glob token at p[at] (one of '?', '[...]', '\\x' or a plain character) matches
// `c`; `next` is where the token ends. check_glob() has vetted the syntax.
bool match_one(std::string_view p, std::size_t at, char c, std::size_t& next) {
  if (p[at] == '?') {
    next = at + 1;
    return true;
  }
  if (p[at] == '\\') {
    next = at + 2;
    return p[at + 1] == c;
  }
  if (p[at] != '[') {
    next = at + 1;
    return p[at] == c;
  }
  std::size_t i = at + 1;
  bool negated = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negated) {
    ++i;
  }
  bool found = false;
  bool first = true;
  while (i < p.size() && (first || p[i] != ']')) {
    first = false;
    char low = p[i] == '\\' ? p[++i] : p[i];
    char high = low;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      i += 2;
      high = p[i] == '\\' ? p[++i] : p[i];
    }
    found = found || (c >= low && c <= high);
    ++i;
  }
  next = i + 1;
  return found != negated;
}

// fnmatch(3) without flags, in O(|pattern| * |text|): on a mismatch only the last '*' is
// retried, one character further on.
bool glob_match(std::string_view pattern, std::string_view text) {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_text = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = ++p;
      star_text = t;
      continue;
    }
    std::size_t next = 0;
    if (p < pattern.size() && match_one(pattern, p, text[t], next)) {
      p = next;
      ++t;
      continue;
    }
    if (star == std::string_view::npos) {
      return false;
    }
    p = star;
    t = ++star_text;
  }
  while (p < pattern.size() && pattern[p] == '*') {
    ++p;
  }
  return p == pattern.size();
}

// Whether the pattern's segments match the path's, '**' standing for any number of
// segments: a table over (pattern segment, path segment), filled from the end.
bool match_segments(const std::vector<std::string>& pattern,
                    const std::vector<std::string_view>& path) {
  const std::size_t rows = pattern.size();
  const std::size_t columns = path.size();
  // matches[i][j]: pattern[i..] matches path[j..]
  std::vector<std::vector<char>> matches(rows + 1, std::vector<char>(columns + 1, 0));
  matches[rows][columns] = 1;
  for (std::size_t i = rows; i-- > 0;) {
    for (std::size_t j = columns + 1; j-- > 0;) {
      if (pattern[i] == "**") {
        // A trailing '**' matches everything inside, not the directory itself.
        matches[i][j] =
            i + 1 == rows ? j < columns : matches[i + 1][j] || (j < columns && matches[i][j + 1]);
      } else {
        matches[i][j] = j < columns && matches[i + 1][j + 1] && glob_match(pattern[i], path[j]);
      }
    }
  }
  return matches[0][0] != 0;
}

} // namespace

Expected<SlugIgnore> SlugIgnore::parse(std::string_view text) {
  SlugIgnore ignore;
  for (auto [line, number] : split_lines(text)) {
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    // Trailing spaces are ignored unless escaped with a backslash.
    while (!line.empty() && line.back() == ' ' &&
           !(line.size() >= 2 && line[line.size() - 2] == '\\')) {
      line.remove_suffix(1);
    }
    if (line.empty() || line.front() == '#') {
      continue;
    }
    if (line.front() == '!') {
      return fail(".slugignore line {}: negation is not supported ('{}')", number, line);
    }
    Pattern pattern;
    if (line.back() == '/') {
      pattern.directory_only = true;
      line.remove_suffix(1);
    }
    // A slash at the start or in the middle anchors the pattern at the app's root.
    pattern.anchored = line.find('/') != std::string_view::npos;
    for (auto segment : split(line)) {
      if (auto ok = check_glob(segment); !ok) {
        return fail(".slugignore line {}: {} in '{}'", number, ok.error().message, line);
      }
      pattern.segments.emplace_back(segment);
    }
    if (pattern.segments.empty()) {
      return fail(".slugignore line {}: pattern '{}' names no file", number, line);
    }
    if (pattern.segments.front() == "**") {
      pattern.anchored = true;
    }
    ignore.m_patterns.push_back(std::move(pattern));
  }
  return ignore;
}

bool SlugIgnore::matches(std::string_view path, bool is_directory) const {
  auto parts = split(path);
  if (parts.empty()) {
    return false;
  }
  for (const auto& pattern : m_patterns) {
    if (pattern.directory_only && !is_directory) {
      continue;
    }
    if (pattern.anchored) {
      if (match_segments(pattern.segments, parts)) {
        return true;
      }
    } else {
      if (glob_match(pattern.segments.front(), parts.back())) {
        return true;
      }
    }
  }
  return false;
}

Expected<std::size_t> SlugIgnore::apply(const fs::path& root, const Deadline& deadline) const {
  std::size_t removed = 0;
  if (m_patterns.empty()) {
    return removed;
  }
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (deadline.expired()) {
      return fail(".slugignore: matching did not finish within the build's time limit");
    }
    bool is_directory = it->is_directory(ec) && !it->is_symlink(ec);
    std::string relative = it->path().lexically_relative(root).generic_string();
    if (matches(relative, is_directory)) {
      doomed.push_back(it->path());
      if (is_directory) {
        it.disable_recursion_pending();
      }
    }
  }
  if (ec) {
    return fail("cannot read '{}': {}", root.string(), ec.message());
  }
  for (const auto& path : doomed) {
    TRY(remove_tree(path));
    ++removed;
  }
  return removed;
}

} // namespace slipway

#include "compiler/slugignore.hpp"

#include <fnmatch.h>

#include "common/lines.hpp"

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
        ++j;
      }
      if (j == segment.size()) {
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

bool match_segments(const std::vector<std::string>& pattern, std::size_t p,
                    const std::vector<std::string_view>& path, std::size_t s) {
  if (p == pattern.size()) {
    return s == path.size();
  }
  if (pattern[p] == "**") {
    // A trailing '**' matches everything inside, not the directory itself.
    if (p + 1 == pattern.size()) {
      return s < path.size();
    }
    for (std::size_t skip = s; skip <= path.size(); ++skip) {
      if (match_segments(pattern, p + 1, path, skip)) {
        return true;
      }
    }
    return false;
  }
  if (s == path.size()) {
    return false;
  }
  std::string segment(path[s]);
  return fnmatch(pattern[p].c_str(), segment.c_str(), 0) == 0 &&
         match_segments(pattern, p + 1, path, s + 1);
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
      if (match_segments(pattern.segments, 0, parts, 0)) {
        return true;
      }
    } else {
      std::string base(parts.back());
      if (fnmatch(pattern.segments.front().c_str(), base.c_str(), 0) == 0) {
        return true;
      }
    }
  }
  return false;
}

Expected<std::size_t> SlugIgnore::apply(const fs::path& root) const {
  std::size_t removed = 0;
  if (m_patterns.empty()) {
    return removed;
  }
  std::error_code ec;
  std::vector<fs::path> doomed;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
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
    fs::remove_all(path, ec);
    if (ec) {
      return fail("cannot remove '{}': {}", path.string(), ec.message());
    }
    ++removed;
  }
  return removed;
}

} // namespace slipway

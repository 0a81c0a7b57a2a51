// .slugignore: gitignore-style patterns of files to delete from the build dir before any
// buildpack runs. Supported: '*', '?', '[...]', '**', a leading '/' or inner '/' to anchor at
// the app's root, a trailing '/' for directories only, '#' comments, '\' escapes. Negation
// ('!') is not supported and is an error, as on Heroku. Matching takes time proportional to
// the pattern's length times the path's (no backtracking blow-up, however many '*' or '**').
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/deadline.hpp"
#include "common/error.hpp"

namespace slipway {

class SlugIgnore {
 public:
  static Expected<SlugIgnore> parse(std::string_view text);

  // `path` is relative to the app root, '/'-separated.
  bool matches(std::string_view path, bool is_directory) const;

  // Deletes every match under `root` (a matched directory goes whole), giving up once
  // `deadline` passes. Returns the number of entries deleted at the top of a match.
  Expected<std::size_t> apply(const std::filesystem::path& root,
                              const Deadline& deadline = Deadline()) const;

  bool empty() const { return m_patterns.empty(); }

 private:
  struct Pattern {
    std::vector<std::string> segments;
    bool anchored = false;       // matched against the whole path, not just the basename
    bool directory_only = false; // trailing '/'
  };
  std::vector<Pattern> m_patterns;
};

} // namespace slipway

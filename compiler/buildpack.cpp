#include "compiler/buildpack.hpp"

#include <algorithm>
#include <cctype>
#include <fcntl.h>
#include <sys/stat.h>

#include <fmt/ranges.h>

#include "common/hash.hpp"
#include "common/lines.hpp"
#include "common/paths.hpp"
#include "common/subprocess.hpp"
#include "common/tree.hpp"
#include "compiler/git.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// [a-z0-9][a-z0-9-]*
bool is_builtin_name(std::string_view ref) {
  return !ref.empty() && is_lower_alnum(ref[0]) &&
         std::ranges::all_of(ref, [](char c) { return is_lower_alnum(c) || c == '-'; });
}

} // namespace

bool has_buildpack_file(const fs::path& dir, std::string_view relative) {
  auto opened = open_beneath(dir, relative, O_PATH);
  if (!opened || !*opened) {
    return false;
  }
  struct stat st {};
  return fstat((*opened)->get(), &st) == 0 && S_ISREG(st.st_mode);
}

namespace {

Expected<void> check_layout(const fs::path& dir, std::string_view ref) {
  if (!has_buildpack_file(dir, "bin/compile")) {
    return fail("buildpack '{}' has no bin/compile", ref);
  }
  return {};
}

} // namespace

bool is_git_url(std::string_view ref) {
  for (std::string_view scheme : {"https://", "http://", "git://", "ssh://", "file://"}) {
    if (ref.starts_with(scheme)) {
      return true;
    }
  }
  // scp-style: user@host:path, with a relative path.
  auto at = ref.find('@');
  auto colon = ref.find(':');
  return at != std::string_view::npos && at > 0 && colon != std::string_view::npos &&
         colon > at + 1 && colon + 1 < ref.size() && ref[colon + 1] != '/' &&
         ref.substr(0, colon).find('/') == std::string_view::npos;
}

namespace {

// "https://github.com/Heroku/heroku-buildpack-nodejs.git#v1", "git@github.com:heroku/x.git"
// → "github.com/heroku/heroku-buildpack-nodejs", "github.com/heroku/x": host and path, no
// scheme, user, ref, ".git" or trailing '/', lowercased (GitHub's names are not
// case-sensitive).
std::string normalized_url(std::string_view url) {
  url = url.substr(0, url.find('#'));
  std::string out;
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  } else if (auto colon = url.find(':'); colon != std::string_view::npos) {
    out.append(url.substr(0, colon)).push_back('/'); // scp-style user@host:path
    url.remove_prefix(colon + 1);
  }
  out.append(url);
  if (auto at = out.find('@'); at != std::string::npos && at < out.find('/')) {
    out.erase(0, at + 1);
  }
  while (out.ends_with('/')) {
    out.pop_back();
  }
  for (std::string_view suffix : {".git", ".tgz"}) {
    if (out.ends_with(suffix)) {
      out.resize(out.size() - suffix.size());
    }
  }
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  if (out.starts_with("www.")) {
    out.erase(0, 4);
  }
  return out;
}

struct StandIn {
  std::string_view ref; // a registry name, or a normalized URL
  std::string_view builtin;
};

// Heroku's official buildpacks, by registry name and by repository, and community
// buildpacks whose job a built-in does.
constexpr StandIn k_stand_ins[] = {
    {"heroku/nodejs", "nodejs"},
    {"heroku/python", "python"},
    {"heroku/go", "go"},
    {"heroku/ruby", "ruby"},
    {"heroku/static", "static"},
    {"heroku/procfile", "procfile"},
    {"heroku-community/static", "static"},
    {"heroku-community/nginx", "static"},
    {"github.com/heroku/heroku-buildpack-nodejs", "nodejs"},
    {"github.com/heroku/heroku-buildpack-python", "python"},
    {"github.com/heroku/heroku-buildpack-go", "go"},
    {"github.com/heroku/heroku-buildpack-ruby", "ruby"},
    {"github.com/heroku/heroku-buildpack-static", "static"},
    {"github.com/dokku/buildpack-nginx", "static"},
    {"github.com/dokku/heroku-buildpack-nginx", "static"},
};

constexpr std::string_view k_registry_archive = "buildpack-registry.s3.amazonaws.com/buildpacks/";

std::string builtin_list() {
  return fmt::format("{}", fmt::join(builtin_buildpack_names(), ", "));
}

// A registry name: NAMESPACE/NAME, both [a-z0-9-].
bool is_registry_name(std::string_view ref) {
  auto slash = ref.find('/');
  return slash != std::string_view::npos && is_builtin_name(ref.substr(0, slash)) &&
         is_builtin_name(ref.substr(slash + 1));
}

} // namespace

std::vector<std::string> builtin_buildpack_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(builtin_buildpacks_dir(), ec)) {
    std::string name = entry.path().filename().string();
    if (is_builtin_name(name) && has_buildpack_file(entry.path(), "bin/compile")) {
      names.push_back(std::move(name));
    }
  }
  std::ranges::sort(names);
  return names;
}

std::optional<std::string> builtin_equivalent(std::string_view ref) {
  std::string key = is_git_url(ref) || ref.find("://") != std::string_view::npos
                        ? normalized_url(ref)
                        : std::string(ref);
  if (key.starts_with(k_registry_archive)) {
    key.erase(0, k_registry_archive.size()); // "heroku/nodejs"
  }
  for (const auto& stand_in : k_stand_ins) {
    if (stand_in.ref == key) {
      return std::string(stand_in.builtin);
    }
  }
  return std::nullopt;
}

std::optional<std::string> registry_git_url(std::string_view ref) {
  if (!is_registry_name(ref)) {
    return std::nullopt;
  }
  auto slash = ref.find('/');
  auto space = ref.substr(0, slash);
  auto name = ref.substr(slash + 1);
  if (space == "heroku" || space == "heroku-community") {
    return fmt::format("https://github.com/heroku/heroku-buildpack-{}", name);
  }
  return std::nullopt;
}

Expected<Buildpack> resolve_buildpack(const std::string& ref, const fs::path& clone_root,
                                      OfficialBuildpacks official) {
  Buildpack buildpack{.ref = ref};
  std::error_code ec;
  auto builtin = [&](std::string_view name) -> Expected<void> {
    if (!is_builtin_name(name) || !fs::is_directory(builtin_buildpacks_dir() / name, ec)) {
      return fail("unknown buildpack '{}': the built-in buildpacks are {}; name another by "
                  "its git URL",
                  ref, builtin_list());
    }
    buildpack.name = name;
    buildpack.dir = builtin_buildpacks_dir() / name;
    return {};
  };
  // A server that clones the official buildpacks clones what their names and URLs say;
  // otherwise the built-in of that language stands in for them.
  bool clone = official == OfficialBuildpacks::clone;
  std::string url = ref;
  if (clone && registry_git_url(ref)) {
    url = *registry_git_url(ref);
  } else if (auto equivalent = builtin_equivalent(ref);
             equivalent && !(clone && is_git_url(ref)) &&
             fs::is_directory(builtin_buildpacks_dir() / *equivalent, ec)) {
    TRY(builtin(*equivalent));
    buildpack.stands_in = true;
    TRY(check_layout(buildpack.dir, ref));
    return buildpack;
  }
  if (is_git_url(url)) {
    auto hash = url.rfind('#');
    std::string git_ref = hash == std::string::npos ? "" : url.substr(hash + 1);
    url = url.substr(0, hash);
    std::string base = url.substr(url.find_last_of("/:") + 1);
    if (base.ends_with(".git")) {
      base.resize(base.size() - 4);
    }
    buildpack.name = base.empty() ? "buildpack" : base;
    fs::create_directories(clone_root, ec);
    buildpack.dir =
        clone_root / fmt::format("{}-{}", buildpack.name, sha256_hex(ref).substr(0, 12));
    fs::remove_all(buildpack.dir, ec);
    auto cloned = git::clone(url, git_ref, buildpack.dir);
    if (!cloned) {
      return fail("{}; the built-in buildpacks are {}", cloned.error().message, builtin_list());
    }
    buildpack.commit = *cloned;
  } else if (ref.starts_with("/")) {
    buildpack.dir = ref;
    fs::path normal = fs::path(ref).lexically_normal();
    buildpack.name = (normal.has_filename() ? normal : normal.parent_path()).filename().string();
    if (!fs::is_directory(buildpack.dir, ec)) {
      return fail("buildpack '{}' is not a directory", ref);
    }
  } else if (is_registry_name(ref)) {
    return fail("buildpack '{}' has no built-in here: the built-in buildpacks are {}; name "
                "its git URL{}",
                ref, builtin_list(),
                registry_git_url(ref) ? " or set [buildpacks] official = \"clone\" in slipway.toml"
                                      : "");
  } else {
    TRY(builtin(ref));
  }
  TRY(check_layout(buildpack.dir, ref));
  return buildpack;
}

} // namespace slipway

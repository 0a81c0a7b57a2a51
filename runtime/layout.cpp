#include "runtime/layout.hpp"

#include <algorithm>
#include <unistd.h>

#include "common/files.hpp"
#include "common/hash.hpp"

namespace slipway {

namespace fs = std::filesystem;

std::string Layout::id() const {
  return sha256_hex(std::filesystem::absolute(m_root).lexically_normal().string()).substr(0, 8);
}

Expected<void> init_root(const Layout& layout, const InitOptions& options) {
  std::error_code ec;
  for (const auto& dir : {layout.root(), layout.apps_dir(), layout.slugs_dir(), layout.repos_dir(),
                          layout.run_dir()}) {
    fs::create_directories(dir, ec);
    if (ec) {
      return fail("cannot create '{}': {}", dir.string(), ec.message());
    }
  }
  // As root, apps run as uids of their own, which must pass through ROOT to reach what
  // their sandboxes bind (and nothing more: search, not read).
  if (geteuid() == 0) {
    for (const auto& dir : {layout.root(), layout.apps_dir(), layout.run_dir()}) {
      fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec,
                      fs::perm_options::add, ec);
    }
  }
  bool asked = !options.domain.empty() || options.http_port != 0 || !options.api_listen.empty();
  if (!options.api_listen.empty()) {
    if (auto checked = parse_listen_address(options.api_listen); !checked) {
      return usage_error("--api-listen: {}", checked.error().message);
    }
  }
  if (!options.domain.empty()) {
    if (auto checked = check_host_name(options.domain); !checked) {
      return usage_error("invalid domain '{}': {}", options.domain, checked.error().message);
    }
  }
  if (fs::exists(layout.config_file(), ec)) {
    if (asked) {
      return fail("'{}' already exists; edit it instead", layout.config_file().string());
    }
    return {};
  }
  std::string toml = "# slipway server configuration; every key has a default (see README.md).\n"
                     "[server]\n";
  if (!options.domain.empty()) {
    toml += fmt::format("domain = \"{}\"\n", options.domain);
  }
  if (options.http_port != 0) {
    toml += fmt::format("http_port = {}\n", options.http_port);
  }
  if (!options.api_listen.empty()) {
    toml += fmt::format("[api]\nlisten = \"{}\"\n", options.api_listen);
  }
  // Validate what we are about to write, with the same parser that will read it.
  TRY(parse_config(toml));
  return write_file_atomic(layout.config_file(), toml);
}

} // namespace slipway

// What every operation starts from: who asks (the actor), the server's layout and
// slipway.toml, and where its progress lines go. Every front end (the CLI, the ssh command,
// and the HTTP API to come) builds a Context and calls the operations of ops/; the rights
// and the rules live there, once.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/error.hpp"
#include "runtime/layout.hpp"
#include "runtime/releaser.hpp"

namespace slipway::ops {

// Who asks: an ssh key (over ssh, and later an API token of that key), which may do what its
// admin flag and the apps that name it allow, or the server's local user, who may do
// everything (it owns ROOT).
struct Actor {
  std::string name; // the key's name, or the local user's login name
  bool admin = false;
  bool local = false;

  std::string describe() const; // "key 'bob'", "the local user 'root'"
};

using OutputFn = std::function<void(std::string_view)>;

struct Context {
  Layout layout;
  Config config;
  Actor actor;
  bool wait = true; // for another operation on the same app to finish; false: fail at once
  OutputFn on_output = [](std::string_view) {};

  // The releaser's context for `app` (which the caller has authorized); valid while this
  // Context lives.
  ReleaseContext release_context(const std::string& app) const;
};

// The context of the local user, or of key `key_name` when it is not empty (the key must
// exist). slipway.toml is read once here.
Expected<Context> open_context(const Layout& layout, std::string_view key_name, OutputFn on_output);

// The key the caller acts as: SLIPWAY_USER, set by the ssh command to the key that logged
// in (and nothing else may set it), or empty for the local user.
std::string acting_key_from_environment();

} // namespace slipway::ops

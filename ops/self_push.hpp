// A deploy made on the server itself by `git push` from an app's own repository to its deploy
// branch (ops/ only): what a connected app's worker and a chat `deploy` do, so that their
// deploys take the very path of a developer's push (receive-pack runs the app's hooks: the
// CI gate, the build and its log, the release phase, the health check, recovery).
#pragma once

#include <string>

#include "common/config.hpp"
#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/apps.hpp"

namespace slipway::ops {

// The deploy branch `branch` deploys to: itself when it is one, else the deploy branch the
// app's repository has (main or master), else the first.
std::string deploy_target_branch(const Layout& layout, const Config& config, const AppInfo& info,
                                 const std::string& branch);

struct SelfPush {
  std::string app;
  std::string commit; // in the app's repository
  std::string target; // the deploy branch it goes to
  std::string key;    // the key the hook acts as; "": the server's local user
  std::string source; // where it came from, named in the release: "github", "chat"
  std::string pusher; // who did it there
};
struct SelfPushResult {
  bool deployed = false;
  std::string failure; // why not, from the push's output
};
// Pushes; the push's lines go to `on_line`.
Expected<SelfPushResult> push_to_deploy_branch(const Layout& layout, const SelfPush& push,
                                               const OutputFn& on_line);

} // namespace slipway::ops

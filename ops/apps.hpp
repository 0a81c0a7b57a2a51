// Apps: list, create, show, rename, destroy; and the git side of one (push and fetch over ssh).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "ops/context.hpp"

namespace slipway::ops {

// The apps the actor may use, sorted (an admin: every app).
Expected<std::vector<std::string>> list_apps(const Context& context);

struct CreateApp {
  std::string name;
};
Expected<void> create_app(const Context& context, const CreateApp& request);

struct AppSummary {
  std::string name;
  std::string id;
  TimePoint created_at;
  std::string url;
  std::size_t releases = 0;
  std::optional<int> live;
  std::optional<TimePoint> released_at; // the live release's
  std::string stack;                    // the live release's
  std::vector<std::string> buildpacks;  // the live release's
  std::uint64_t slug_size = 0;          // the live release's slug, bytes
  bool maintenance = false;
  std::string pipeline; // the pipeline it is in, if any
  std::string stage;    // its stage there
  bool promotion_only = false;
  bool ci = false;
  bool wait_for_ci = false;
  std::vector<std::string> deploy_branches;
  std::string scheduler; // where its releases run: "local" or "swarm"
};
Expected<AppSummary> app_summary(const Context& context, const std::string& app);

struct AppRef {
  std::string name;
  std::string id;
};
// The app that `name_or_id` names — its name, or its id (the Platform API takes either) —
// when the actor may use it: the one check before any per-app request of the API.
Expected<AppRef> find_app(const Context& context, std::string_view name_or_id);

struct DestroyApp {
  std::string name;
  std::string confirm; // the name again
};
// The app, its repository, its log and the slugs only it used; a running daemon stops its
// processes and drops its route.
Expected<void> destroy_app(const Context& context, const DestroyApp& request);

struct RenameApp {
  std::string from;
  std::string to;
};
// Renames the app with everything it holds: its directory (releases, config, formation,
// domains, collaborators, log, cache, uid), its repository, its host name APP.DOMAIN. A
// running daemon stops the old name's processes and starts the new one's. Interrupted, it
// is completed by running it again.
Expected<void> rename_app(const Context& context, const RenameApp& request);

// `apps:set -a APP NAME=VALUE...`: the app's settings that are not config vars.
//   promotion_only = true|false  a production app of a pipeline changes only by promotion
//   ci = true|false              every push queues a test run
//   wait_for_ci = true|false     a deploy waits for its tests, and a red run refuses it
//   deploy_branch = BRANCH|""    the one branch whose push deploys (""; the server's)
struct SetApp {
  std::string app;
  std::vector<std::pair<std::string, std::string>> settings;
};
// The settings as they are after the change.
Expected<AppSummary> set_app(const Context& context, const SetApp& request);

struct GitAccess {
  std::string app;
  bool push = false; // git-receive-pack; else git-upload-pack
};
// The repository to run git's pack service in. An admin's push to an app that does not
// exist creates it ("Created app" on the output).
Expected<std::filesystem::path> open_repository(const Context& context, const GitAccess& request);

} // namespace slipway::ops

// Apps: a directory under apps/ with an app.toml, a build cache and its releases.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/owner.hpp"
#include "runtime/layout.hpp"
#include "runtime/stage.hpp"

namespace slipway {

struct AppInfo {
  std::string name;
  std::string id; // a UUID, kept in app.toml from its creation (a rename keeps it)
  std::chrono::system_clock::time_point created_at;
  std::string deploy_branch; // app.toml's override of [server].deploy_branch; empty: none
  // `ps:scale`'s counts by process type. A type not named runs its default: 1 for web, 0
  // for the others (Heroku's).
  std::map<std::string, int> formation;
  std::vector<std::string> domains; // `domains:add` hosts, in the order they were added
  std::vector<std::string> access;  // names of the ssh keys that may use the app (collaborators)
  // `maintenance:on`: the router answers every request for its hosts with a 503 page, while
  // its processes keep running.
  bool maintenance = false;
  // Its place in a pipeline (pipelines.hpp), if any.
  std::optional<PipelineCoupling> coupling;
  // `apps:set promotion_only=true`, for a production app: it changes only by promotion (a
  // push or `deploy` is refused; rollback and config changes are not).
  bool promotion_only = false;
  // `apps:set ci=true`: every push of a branch queues a test run (as does one to an app of a
  // pipeline whose commit declares app.json environments.test).
  bool ci = false;
  // `apps:set wait_for_ci=true`: a push of a deploy branch runs the tests first, and a red
  // run refuses it.
  bool wait_for_ci = false;
  // A review app's branch and parent (review_apps.hpp); none for any other app.
  std::optional<ReviewOrigin> review;
  // `apps:set scheduler=swarm|local`: where its releases run; none: [scheduler].engine.
  std::optional<Engine> scheduler;
};

// Where the app's releases run: app.toml's `scheduler`, else [scheduler].engine. The one
// rule the daemon and a release's operation share.
Engine app_engine(const Config& config, const AppInfo& info);

inline constexpr int k_max_scale = 100; // processes of one type

// The branches whose push deploys the app: app.toml's deploy_branch, else
// [server].deploy_branch, else main and master (as on Heroku).
std::vector<std::string> deploy_branches(const Config& config, const AppInfo& info);

// How many `type` processes run when the formation does not say.
int default_scale(std::string_view type);

// How many processes of each of `types` run under `formation` (the app's `ps:scale`
// counts), in the types' order: the one answer the daemon and the push output share.
std::vector<std::pair<std::string, int>>
process_counts(const std::map<std::string, int>& formation,
               const std::vector<std::pair<std::string, std::string>>& types);

// The app's own host name, APP.DOMAIN, and its URL, http://APP.DOMAIN[:PORT]: the one place
// either is made.
std::string app_host(const Config& config, std::string_view app);
std::string app_url(const Config& config, std::string_view app);

// The form a host name is kept and compared in: ASCII letters lowercased (DNS names are
// case-insensitive) and one trailing dot dropped (`example.com.` is the absolute form of
// `example.com`, and nginx drops it from a request's Host too). Anything else is left for
// validate_domain to judge.
std::string canonical_domain(std::string_view host);

// A host name `domains:add` accepts (in canonical form): lowercase DNS labels (letters,
// digits, inner '-'), at least two of them, at most 253 characters; or a wildcard, `*.`
// then such a name (`*.example.com`), which answers every name under it but itself. The
// error names `typed` when given: the name as the user wrote it, before canonical_domain.
Expected<void> validate_domain(std::string_view host, std::string_view typed = {});

// Whether `host` is a wildcard domain: it starts with "*.".
bool is_wildcard_domain(std::string_view host);

// Whether the domain `pattern` answers the request host `host` (both canonical), as nginx
// matches a server_name: the same name, or for `*.example.com` any name under example.com
// (of any depth) but example.com itself.
bool domain_matches(std::string_view pattern, std::string_view host);

// Whether the domain `host` (a name or a wildcard) would answer the server's domain `domain`
// or a name under it: the names only the app of that name answers. `*.example.com` does
// for the domain `apps.example.com`, since it matches `zeta.apps.example.com`.
bool reaches_domain(std::string_view host, std::string_view domain);

Expected<void> create_app(const Layout& layout, const std::string& name);

// The app that answers a request for `host` (in any case), if any, as nginx chooses: the app
// named by a host under the server's domain (APP.DOMAIN, whether or not that app exists
// yet), else the app that added exactly that name, else the app whose wildcard matching it
// is longest.
std::optional<std::string> host_owner(const Layout& layout, const Config& config,
                                      const std::string& host);

// Whether `app` may add `host` (validated; in any case) as a domain: not the server's domain
// nor a name under it, nor a wildcard matching either (those belong to the app of that
// name, even one not yet created), and not a name or wildcard another app added. A wildcard
// and a name under it may belong to different apps: the name is the more specific, and wins.
// Callers hold run/domains.lock.
Expected<void> check_domain_claim(const Layout& layout, const Config& config,
                                  const std::string& app, const std::string& host);

// The host uid and gid (equal) the app's builds and processes run as when slipway runs as
// root, and the ids they see inside the sandbox otherwise: one per app, from
// [runtime].uid_range, given once (apps/APP/uid) and never shared while the app exists.
Expected<Owner> app_identity(const Layout& layout, const Config& config, const std::string& app);

// The identity of `slipway build`, which builds for no app: the first uid of the range,
// never given to an app.
Owner build_identity(const Config& config);

// That ROOT exists and was initialised (it has apps/): the error names what is wrong.
Expected<void> check_root(const Layout& layout);

// Names of every app, sorted.
std::vector<std::string> list_apps(const Layout& layout);

// Validates the name and checks that the app exists: the gate before any per-app path.
Expected<void> require_app(const Layout& layout, const std::string& name);

Expected<AppInfo> app_info(const Layout& layout, const std::string& name);

// Rewrites app.toml (atomically). Callers hold the app's deploy lock.
Expected<void> save_app_info(const Layout& layout, const AppInfo& info);

// Removes the app (after its deploy lock, so not in the middle of a release) and prunes
// the slugs only it used.
Expected<void> destroy_app(const Layout& layout, const Config& config, const std::string& name);

} // namespace slipway

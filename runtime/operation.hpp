// One operation on one app, from its deploy lock to the end: the frame every release is
// made in (releaser.hpp). Beginning one settles whatever an earlier operation left half
// done, so that after any fault — a killed client, hook or daemon — the next operation
// starts from a consistent app:
//   - a push whose release went live but whose branch git never moved is rolled back, and
//     one whose branch moved is confirmed (push_inflight.hpp);
//   - releases left `pending` are settled: live ones succeeded, the others failed;
//   - a missing or damaged `current` is repaired from the records.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/file_lock.hpp"
#include "runtime/events.hpp"
#include "runtime/layout.hpp"
#include "runtime/push_inflight.hpp"
#include "runtime/release.hpp"
#include "runtime/release_store.hpp"
#include "runtime/slug_store.hpp"

namespace slipway {

struct ReleaseContext {
  const Layout& layout;
  const Config& config;
  std::string app;  // must exist (require_app)
  bool wait = true; // for another operation on the app to finish; false: fail at once
  std::string user; // recorded as who made the release, when known
  std::function<void(std::string_view)> on_output; // the operation's log, line by line
  // Leave deletions (scratch dirs, unneeded slugs) to housekeep(), after the caller has
  // answered: the git hook's post-receive. Otherwise they happen before returning.
  bool defer_deletions = false;
};

// The git side of a push, for a release that must not stay live unless its branch moves.
struct PushRef {
  std::string ref;
  std::string old_id;
  std::string new_id;
  int receive_pack_pid = 0;    // the hook's parent
  long receive_pack_start = 0; // its start time, read when the hook began
};

class Operation {
 public:
  static Expected<Operation> begin(const ReleaseContext& context);

  ReleaseStore& releases() { return m_releases; }
  SlugStore& slugs() { return m_slugs; }

  // Release phase, activation, then `succeeded`; on failure `failed` with the reason and
  // the live release as it was. A push's release stays `pending` once live, until its
  // branch is seen to move (confirm_push); `push` is recorded before it goes live.
  // `phase_dir` holds the release's files for the release phase; empty: unpack the slug.
  Expected<Release> publish(Release release, const std::filesystem::path& phase_dir,
                            const std::optional<PushRef>& push = std::nullopt);

  // Runs app.json's script `name` ("postdeploy", "dokku-postdeploy"), `command`, in a
  // one-off process of `release`, which is live: output streamed and kept beside the release.
  Expected<void> run_postdeploy(const Release& release, const std::string& name,
                                const std::string& command);

  // Records an event of this operation's app, by its actor (events.hpp); a failure to
  // record is a warning, never the operation's failure.
  Event record(std::string resource, std::string action, nlohmann::json data);

 private:
  Operation(const ReleaseContext& context, FileLock lock);

  Expected<void> settle_push();
  Expected<void> settle_unrecorded_push();
  Expected<void> roll_back_push(int version, std::optional<int> previous,
                                const std::string& reason);
  Expected<void> repair_link();
  // `release_phase`: the release is new, so a cluster app's release command runs first.
  Expected<void> activate(int version, bool release_phase = false);
  // Whether the app's releases run on a cluster engine (the daemon runs its release phase).
  bool on_cluster() const;
  Expected<void> deactivate();
  // The release phase, or (`script` given) a postdeploy script: a one-off process of
  // `release` in `given_dir`'s files, or an unpacked copy of its slug when empty.
  struct Script {
    std::string dyno;
    std::string what;
    std::string command;
    std::filesystem::path log;
  };
  Expected<void> run_phase(const Release& release, const std::filesystem::path& given_dir,
                           const std::optional<Script>& script = std::nullopt);

  const ReleaseContext& m_context;
  FileLock m_lock;
  ReleaseStore m_releases;
  SlugStore m_slugs;
};

// Settles the app as Operation::begin does, then lets go: what post-receive runs once git
// has moved the branch (with `wait` false it gives up at once if an operation is running,
// which settles it anyway), and what the daemon runs when it finds an app left unsettled.
Expected<void> settle_app(const ReleaseContext& context);

// Whether the app holds something only settle_app clears: a push in flight, a release
// still `pending` or without a record, or a `current` that does not name the live release.
bool needs_settling(const Layout& layout, const std::string& app);

} // namespace slipway

// A push whose release went live before git moved its branch. git updates refs only after
// pre-receive exits, so between "the release is live" and "the branch names its commit"
// lies a window in which the client can hang up, receive-pack can be killed, or the ref
// update can fail. The hook records the push here before it activates the release; the
// release stays `pending` until someone sees the branch at the pushed commit (post-receive,
// the next operation on the app, or the daemon's sweep) and marks it `succeeded`. If
// receive-pack is gone and the branch never moved, the release is rolled back.
#pragma once

#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/proc.hpp"
#include "runtime/layout.hpp"

namespace slipway {

struct PushInFlight {
  std::string ref;             // "refs/heads/main"
  std::string old_id;          // what the branch named before the push
  std::string new_id;          // the pushed commit, which the release was built from
  int version = 0;             // the release made from it
  std::optional<int> previous; // the live release before it
  int pid = 0;                 // git receive-pack, which moves the branch after the hook
  long start_time = 0;         // its start time (process_start_time), against pid reuse
};

Expected<void> write_push_inflight(const Layout& layout, const std::string& app,
                                   const PushInFlight& push);

// nullopt when there is none. A record that cannot be parsed is an error naming the file.
Expected<std::optional<PushInFlight>> read_push_inflight(const Layout& layout,
                                                         const std::string& app);

void remove_push_inflight(const Layout& layout, const std::string& app);

} // namespace slipway

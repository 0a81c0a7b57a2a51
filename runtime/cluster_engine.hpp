// A cluster engine: where an app's releases run when its scheduler is not the daemon's own
// processes (cluster/swarm.hpp drives Docker Swarm). The daemon keeps the rules it keeps for
// its own processes — a release goes live only once every new web process answers its health
// check, the router switches, then what ran before stops — and asks the engine for the parts
// only it can do. Each call blocks until the engine answered: the daemon makes them off its
// loop.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "compiler/app_json.hpp"
#include "runtime/release.hpp"

namespace slipway {

// One process of an app on the cluster (a Swarm task).
struct ClusterTask {
  std::string id;
  std::string type; // "web"
  int index = 0;    // web.1, web.2: the task's slot
  int release = 0;
  std::string state;   // the engine's: "running", "starting", "failed", ...
  std::string address; // a web task's "HOST:PORT" once published; "" otherwise
  std::optional<TimePoint> started_at;
  std::string message; // the engine's word on it: "task: non-zero exit (1)"
  bool wanted = true;  // false: it ended and is not to run again (failed, shut down)

  std::string name() const { return type + "." + std::to_string(index); }
};

struct ClusterLogLine {
  std::string dyno; // "web.1"
  int release = 0;
  std::string time; // the engine's RFC 3339 time, which orders them
  std::string text;
};

// What a release runs with on the cluster: its processes' counts and the web check.
struct ClusterRelease {
  std::string app;
  std::string host; // APP.DOMAIN: the Host of the container's health check
  const Release& release;
  std::vector<std::pair<std::string, int>> formation; // per process type, the Procfile's order
  HealthCheck health;
};

class ClusterEngine {
 public:
  virtual ~ClusterEngine() = default;

  // What the release runs from, made once: its image in the registry and its config vars'
  // secret. Progress lines go to `on_output`.
  virtual Expected<void> prepare(const std::string& app, const Release& release,
                                 const std::function<void(std::string_view)>& on_output) = 0;
  // Runs `command` once in a one-off task of the prepared release, its output to
  // `on_output` as it comes; its exit status (an error: it never ran, or timed out).
  virtual Expected<int> run_once(const std::string& app, const Release& release,
                                 const std::string& dyno, const std::string& command,
                                 std::chrono::milliseconds timeout,
                                 const std::function<void(std::string_view)>& on_output) = 0;
  // The release's processes run at `formation` (made, or their counts changed); other
  // releases' are left alone.
  virtual Expected<void> apply(const ClusterRelease& release) = 0;
  // Every process of the app the engine has, of every release, but those stopped for good.
  virtual Expected<std::vector<ClusterTask>> tasks(const std::string& app) = 0;
  // The releases of the app that have processes (services) on the cluster.
  virtual Expected<std::vector<int>> releases(const std::string& app) = 0;
  // Removes the release's processes.
  virtual Expected<void> remove(const std::string& app, int release) = 0;
  // A rolling restart of the release's processes of `type` (every type when empty): each
  // replaced by one that is healthy before it stops.
  virtual Expected<void> restart(const std::string& app, int release, const std::string& type) = 0;
  // The output of the app's tasks after `since` (an RFC 3339 time; "" from the start).
  virtual Expected<std::vector<ClusterLogLine>> logs(const std::string& app,
                                                     const std::string& since) = 0;
};

} // namespace slipway

// Docker Swarm as a cluster engine (runtime/cluster_engine.hpp), driven through the Engine
// API of a manager (cluster/docker.hpp). What a release is there:
// - its image, written from the slug (image.hpp) and pushed to [scheduler].registry as
//   APP:vN, run by digest;
// - its config vars as one Swarm secret, named by its content (APP-config-<hash>) so the
//   same config is the same secret: never edited, and a rollback re-points to it;
// - a service per process type, APP-TYPE-vN, labelled io.slipway.app/release/type: replicas
//   from the formation, the stop grace period, a restart policy, no capabilities, the memory
//   and process limits of [runtime], the app's health check as the container's, a start-first
//   update for rolling restarts, and for web a host-mode published port per task (the routing
//   mesh is not used: slipway's nginx routes to the tasks' ports);
// - the release phase and `run` as a one-off job (a replicated job of one task).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cluster/docker.hpp"
#include "common/config.hpp"
#include "runtime/cluster_engine.hpp"
#include "runtime/layout.hpp"

namespace slipway::cluster {

// The port a container's web process listens on; each task's is published on a host port.
inline constexpr int k_container_port = 5000;

// Where the daemon writes a release's image before pushing it: ROOT/images/tmp/.
std::filesystem::path scratch_dir(const Layout& layout);

// A service's name: APP-TYPE-vN, with what Docker does not take in a name ('_') as '-'.
std::string service_name(const std::string& app, const std::string& type, int version);

// A config var file as /start reads it: `export NAME='value'` lines, each value quoted so
// the shell takes it as it is.
std::string config_file(const ConfigVars& config);

class SwarmEngine final : public ClusterEngine {
 public:
  static Expected<std::unique_ptr<SwarmEngine>> open(const Layout& layout, const Config& config);

  Expected<void> prepare(const std::string& app, const Release& release,
                         const std::function<void(std::string_view)>& on_output) override;
  Expected<int> run_once(const std::string& app, const Release& release, const std::string& dyno,
                         const std::string& command, std::chrono::milliseconds timeout,
                         const std::function<void(std::string_view)>& on_output) override;
  Expected<void> apply(const ClusterRelease& release) override;
  Expected<std::vector<ClusterTask>> tasks(const std::string& app) override;
  Expected<std::vector<int>> releases(const std::string& app) override;
  Expected<void> remove(const std::string& app, int release) override;
  Expected<void> restart(const std::string& app, int release, const std::string& type) override;
  Expected<std::vector<ClusterLogLine>> logs(const std::string& app,
                                             const std::string& since) override;

 private:
  SwarmEngine(const Layout& layout, const Config& config, std::string socket);

  // What a release's tasks run from.
  struct Prepared {
    std::string image;       // "HOST:PORT/APP:vN@sha256:..."
    std::string secret_id;   // its config vars
    std::string secret_name; // APP-config-<hash>
  };
  Expected<Prepared> prepared(const std::string& app, const Release& release,
                              const std::function<void(std::string_view)>& on_output);
  Expected<std::string> push_release_image(const std::string& app, const Release& release,
                                           const std::function<void(std::string_view)>& on_output);
  Expected<Prepared> make_secret(const std::string& app, const Release& release);
  // The app's services (of `release` when not 0).
  Expected<nlohmann::json> services(const std::string& app, int release = 0);
  nlohmann::json container_spec(const std::string& app, const Prepared& prepared,
                                std::vector<std::string> args) const;
  // A node's address, as the router reaches its published ports.
  std::string node_address(const std::string& node_id);
  // Removes the app's secrets no service uses any more.
  void prune_secrets(const std::string& app);

  Layout m_layout;
  Config m_config;
  Docker m_docker;
  std::mutex m_mutex; // guards the caches below: the daemon calls from its pool's threads
  std::map<std::string, Prepared> m_prepared;    // by "APP/vN"
  std::map<std::string, std::string> m_nodes;    // node id -> address
  std::map<std::string, std::string> m_log_seen; // task id -> the time of its last line read
};

} // namespace slipway::cluster

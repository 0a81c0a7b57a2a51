// The daemon's calls to its cluster engine (runtime/cluster_engine.hpp): each runs on the
// thread pool, and its result comes back on the loop. Plain functions that return the
// awaitable, so every closure is made outside a coroutine (context.hpp). What the engine
// says while it works (an image pushed, the release phase's output) is queued, for the
// coroutine that waits to pass on.
#pragma once

#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/cluster_engine.hpp"
#include "runtime/daemon/context.hpp"

namespace slipway::daemon {

// Lines said on a pool thread, taken on the loop.
class LineQueue {
 public:
  void push(std::string_view line);
  std::vector<std::string> take();

 private:
  std::mutex m_mutex;
  std::deque<std::string> m_lines;
};

class ClusterCalls {
 public:
  ClusterCalls(Context& context, ClusterEngine& engine) : m_context(context), m_engine(engine) {}

  awaitable<Expected<void>> prepare(std::string app, std::shared_ptr<const Release> release,
                                    std::shared_ptr<LineQueue> lines);
  // The release's release command in a one-off task; its output to `lines` and to the
  // release's release.log.
  awaitable<Expected<void>> release_phase(std::string app, std::shared_ptr<const Release> release,
                                          std::shared_ptr<LineQueue> lines);
  awaitable<Expected<void>> apply(std::string app, std::string host,
                                  std::shared_ptr<const Release> release,
                                  std::vector<std::pair<std::string, int>> formation,
                                  HealthCheck health);
  awaitable<Expected<std::vector<ClusterTask>>> tasks(std::string app);
  awaitable<Expected<std::vector<int>>> releases(std::string app);
  awaitable<Expected<void>> remove(std::string app, int release);
  awaitable<Expected<void>> restart(std::string app, int release, std::string type);
  awaitable<Expected<std::vector<ClusterLogLine>>> logs(std::string app, std::string since);
  awaitable<Expected<int>> run_once(std::string app, std::shared_ptr<const Release> release,
                                    std::string command, std::shared_ptr<LineQueue> lines);

 private:
  Context& m_context;
  ClusterEngine& m_engine;
};

} // namespace slipway::daemon

// A daemon service that is one loop on a thread of its own (the git-host statuses, the
// webhook sender): started with the daemon's config, stopped by a flag it waits on between
// rounds, so that a stop is seen at once rather than after a round's sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "runtime/daemon.hpp"

namespace slipway::notify {

// What the loop is handed: whether to stop, and a wait that ends early when it should.
class StopSignal {
 public:
  bool stopping() const { return m_stop; }
  // Sleeps up to `interval`; returns at once when the service is stopping.
  void wait(std::chrono::milliseconds interval) {
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, interval, [&] { return m_stop.load(); });
  }
  void stop() {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_wake.notify_all();
  }
  const std::atomic<bool>& flag() const { return m_stop; }

 private:
  std::atomic<bool> m_stop = false;
  std::mutex m_mutex;
  std::condition_variable m_wake;
};

// A service named `name` running `loop(config, signal)` until it is stopped.
inline DaemonService threaded_service(std::string name,
                                      std::function<void(const Config&, StopSignal&)> loop) {
  struct Running {
    std::thread thread;
    std::unique_ptr<StopSignal> signal;
  };
  auto running = std::make_shared<Running>();
  return DaemonService{.name = std::move(name),
                       .start = [running, loop](const Config& config) -> Expected<void> {
                         running->signal = std::make_unique<StopSignal>();
                         running->thread = std::thread(
                             [running, loop, config] { loop(config, *running->signal); });
                         return {};
                       },
                       .stop =
                           [running] {
                             if (running->signal) {
                               running->signal->stop();
                             }
                             if (running->thread.joinable()) {
                               running->thread.join();
                             }
                           }};
}

} // namespace slipway::notify

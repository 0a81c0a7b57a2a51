#include "notify/git_host_service.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "notify/git_host_statuses.hpp"
#include "notify/service_thread.hpp"
#include "ops/connections.hpp"
#include "runtime/credentials.hpp"
#include "runtime/events.hpp"

namespace slipway::notify {

namespace {

constexpr std::chrono::milliseconds k_round{500};
constexpr int k_tend_every = 6; // rounds: 3 s
constexpr int k_attempts = 3;

void log(std::string_view line) {
  std::string text = fmt::format("{} slipway[git-host]: {}\n",
                                 format_time(std::chrono::system_clock::now()), line);
  std::fwrite(text.data(), 1, text.size(), stderr);
}

class Service {
 public:
  Service(Layout layout, Config config)
      : m_layout(std::move(layout)), m_config(std::move(config)) {}

  void run(StopSignal& signal) {
    const std::atomic<bool>& stop = signal.flag();
    auto subscription = EventSubscription::open(m_layout, "git-host-statuses", log);
    if (!subscription) {
      log("statuses are off: " + subscription.error().message);
    }
    for (int round = 0; !stop; ++round) {
      if (subscription) {
        for (const auto& event : subscription->poll(log)) {
          if (stop) {
            return;
          }
          post(event, stop);
          if (auto handled = subscription->handled(event.id); !handled) {
            log(handled.error().message);
          }
        }
      }
      if (round % k_tend_every == 0) {
        for (const auto& app : ops::tend_connections(m_layout, std::chrono::system_clock::now())) {
          log(fmt::format("started the worker of {}", app));
        }
      }
      signal.wait(k_round);
    }
  }

 private:
  void post(const Event& event, const std::atomic<bool>& stop) {
    auto status = status_for(m_layout, m_config, event);
    if (!status) {
      return;
    }
    auto connection = load_connection(m_layout, status->app);
    if (!connection || !*connection || (*connection)->credential.empty()) {
      return;
    }
    auto credential = load_credential(m_layout, (*connection)->credential);
    if (!credential || credential->kind != CredentialKind::token) {
      return; // a deploy key fetches; it cannot post statuses
    }
    http::Request request = status_request(**connection, credential->secret, *status);
    std::string what = fmt::format("{} {} of {} ({})", status->context, status->state,
                                   status->commit.substr(0, 7), status->app);
    for (int attempt = 1; attempt <= k_attempts && !stop; ++attempt) {
      auto response = http::send(request);
      if (response && response->status >= 200 && response->status < 300) {
        log(fmt::format("{}: posted ({})", what, response->status));
        return;
      }
      std::string why =
          response ? fmt::format("HTTP {} {}", response->status, response->body.substr(0, 200))
                   : response.error().message;
      // A refusal (bad token, unknown commit) will not change by trying again.
      bool retry = !response || response->status >= 500 || response->status == 429;
      log(fmt::format("{}: attempt {} failed: {}", what, attempt, why));
      if (!retry) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::seconds(attempt * 2));
    }
  }

  Layout m_layout;
  Config m_config;
};

} // namespace

DaemonService git_host_service(const Layout& layout) {
  return threaded_service("git-host statuses", [layout](const Config& config, StopSignal& signal) {
    Service(layout, config).run(signal);
  });
}

} // namespace slipway::notify

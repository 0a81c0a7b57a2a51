#include "runtime/daemon/event_bus.hpp"

#include <array>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/subprocess.hpp"
#include "common/time.hpp"

namespace slipway::daemon {

namespace {

// How long a subscriber waits without a notice before it reads the stream anyway.
constexpr milliseconds k_read_anyway_after{1000};

} // namespace

struct EventBus::Running {
  Running(asio::io_context& io, Subscriber subscriber, EventSubscription subscription)
      : subscriber(std::move(subscriber)), subscription(std::move(subscription)), wake(io) {}

  Subscriber subscriber;
  EventSubscription subscription;
  asio::steady_timer wake;
  bool noticed = false; // the stream changed since it last read it
};

EventBus::EventBus(asio::io_context& io, const Layout& layout,
                   std::function<void(const std::string&)> warn)
    : m_io(io), m_layout(layout), m_warn(std::move(warn)) {}

Expected<void> EventBus::subscribe(Subscriber subscriber) {
  auto subscription = TRY(EventSubscription::open(m_layout, subscriber.name, m_warn));
  m_running.push_back(
      std::make_shared<Running>(m_io, std::move(subscriber), std::move(subscription)));
  return {};
}

void EventBus::start() {
  std::error_code ec;
  std::filesystem::create_directories(m_layout.events_dir(), ec);
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0 && inotify_add_watch(fd, m_layout.events_dir().c_str(),
                                   IN_MODIFY | IN_CREATE | IN_MOVED_TO) >= 0) {
    m_inotify = std::make_unique<asio::posix::stream_descriptor>(m_io, fd);
    asio::co_spawn(m_io, watch(), asio::detached);
  } else {
    m_warn(fmt::format("cannot watch '{}' ({}): reading it every {}",
                       m_layout.events_dir().string(), errno_text(errno),
                       format_duration(k_read_anyway_after)));
    if (fd >= 0) {
      close(fd);
    }
  }
  for (const auto& running : m_running) {
    asio::co_spawn(m_io, deliver(running), asio::detached);
  }
}

void EventBus::stop() {
  m_stopped = true;
  if (m_inotify) {
    boost::system::error_code ignored;
    m_inotify->close(ignored);
  }
  notify();
}

void EventBus::notify() {
  for (const auto& running : m_running) {
    running->noticed = true;
    running->wake.cancel();
  }
}

awaitable<void> EventBus::watch() {
  std::array<char, 4096> buffer{};
  while (!m_stopped) {
    boost::system::error_code error;
    co_await m_inotify->async_read_some(asio::buffer(buffer),
                                        asio::redirect_error(use_awaitable, error));
    if (error) {
      co_return; // stopped; the subscribers still read every k_read_anyway_after
    }
    notify();
  }
}

awaitable<void> EventBus::deliver(std::shared_ptr<Running> running) {
  while (!m_stopped) {
    running->noticed = false;
    std::uint64_t passed = 0; // the last event it did not want
    std::vector<Event> events = running->subscription.poll(m_warn);
    for (auto& event : events) {
      if (m_stopped) {
        co_return;
      }
      std::uint64_t id = event.id;
      if (!running->subscriber.wants(event)) {
        passed = id;
        continue;
      }
      co_await running->subscriber.handle(std::move(event));
      passed = 0;
      if (auto saved = running->subscription.handled(id); !saved) {
        m_warn(saved.error().message);
      }
    }
    // Unwanted events move the cursor once a batch: read again after a crash, they are
    // still unwanted.
    if (passed > 0) {
      if (auto saved = running->subscription.handled(passed); !saved) {
        m_warn(saved.error().message);
      }
    }
    if (!running->noticed && !m_stopped) {
      running->wake.expires_after(k_read_anyway_after);
      boost::system::error_code woken;
      co_await running->wake.async_wait(asio::redirect_error(use_awaitable, woken));
    }
  }
}

} // namespace slipway::daemon

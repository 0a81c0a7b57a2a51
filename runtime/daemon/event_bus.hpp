// The event stream (runtime/events.hpp) inside the daemon: every subscriber is handed each
// event after its cursor, in order, the events other processes (the CLI, the git hook)
// record while the daemon runs included, and its cursor moves once it has handled one, so a
// restarted daemon resumes each subscriber after the last event it handled. The events
// directory is watched with inotify, and read every second anyway in case a notice is lost.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/daemon/context.hpp"
#include "runtime/events.hpp"

namespace slipway::daemon {

struct Subscriber {
  std::string name; // its cursor is ROOT/events/cursors/NAME
  // The events it handles; those it does not want only move its cursor.
  std::function<bool(const Event&)> wants;
  // Handles one event; its cursor moves past the event once this returns.
  std::function<awaitable<void>(Event)> handle;
};

class EventBus {
 public:
  // `warn`: for lines of the stream that are skipped, and cursors that cannot be written.
  EventBus(asio::io_context& io, const Layout& layout,
           std::function<void(const std::string&)> warn);

  // Opens the subscriber's cursor; before start().
  Expected<void> subscribe(Subscriber subscriber);
  // Watches the stream and hands events out, each subscriber in a coroutine of its own.
  void start();
  // No event is handed out after this (one being handled finishes).
  void stop();

 private:
  struct Running;
  awaitable<void> watch();
  awaitable<void> deliver(std::shared_ptr<Running> running);
  void notify();

  asio::io_context& m_io;
  Layout m_layout;
  std::function<void(const std::string&)> m_warn;
  std::vector<std::shared_ptr<Running>> m_running;
  std::unique_ptr<asio::posix::stream_descriptor> m_inotify;
  bool m_stopped = false;
};

} // namespace slipway::daemon

// What every part of the daemon shares: its root and settings, the one Boost.Asio loop every
// coroutine runs on, the thread pool for slow disk work, and the daemon's own log (stderr).
#pragma once

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <utility> // Boost.Asio 1.74's awaitable.hpp uses std::exchange without including it

#include <boost/asio.hpp>
#include <fmt/format.h>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway::daemon {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using SteadyClock = std::chrono::steady_clock;
using SystemClock = std::chrono::system_clock;
using std::chrono::milliseconds;

constexpr milliseconds k_poll{20};

struct Context {
  Context(const Layout& layout, Config config) : layout(layout), config(std::move(config)) {}

  Layout layout;
  Config config;
  asio::io_context io;
  // Disk work, and the calls to a cluster engine, some of which wait long (a release phase).
  asio::thread_pool pool{4};
  bool stopping = false; // SIGTERM or SIGINT: everything is being stopped

  // A line of the daemon's own log: "TIME slipway[daemon]: text".
  template <class... Args>
  void say(fmt::format_string<Args...> format, Args&&... args) const {
    std::string line = fmt::format("{} slipway[daemon]: {}\n", format_time(SystemClock::now()),
                                   fmt::format(format, std::forward<Args>(args)...));
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }

  // Runs `work` (a copy or an unpack: slow disk work) on the thread pool; the returned
  // awaitable resumes on the loop with its result. A timer that never expires serves as the
  // completion event: the pool cancels it through the loop. Not a coroutine itself, so the
  // work never lives in a coroutine frame, and every coroutine runs on the loop's thread: the
  // pool only ever runs plain functions.
  awaitable<Expected<void>> off_loop(std::function<Expected<void>()> work);
};

awaitable<void> sleep_for(milliseconds duration);

// "0.4s"
std::string seconds_text(SteadyClock::duration elapsed);
long elapsed_ms(SteadyClock::time_point since);

// g++ 12 miscompiles a lambda that copies locals when it is made inside a coroutine body,
// so every such closure in the daemon is made in a plain function (see Context::off_loop's
// callers), a json argument is never braced inside a co_await, and a co_await's operand has
// no conditional expression that makes a temporary in one branch (it is destroyed twice).

} // namespace slipway::daemon

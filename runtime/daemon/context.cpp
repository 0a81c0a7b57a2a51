#include "runtime/daemon/context.hpp"

#include <memory>

namespace slipway::daemon {

namespace {

struct Job {
  explicit Job(asio::io_context& io) : done(io, asio::steady_timer::time_point::max()) {}
  asio::steady_timer done;
  Expected<void> result;
};

awaitable<Expected<void>> wait_for(std::shared_ptr<Job> job) {
  boost::system::error_code cancelled;
  co_await job->done.async_wait(asio::redirect_error(use_awaitable, cancelled));
  co_return job->result;
}

} // namespace

awaitable<Expected<void>> Context::off_loop(std::function<Expected<void>()> work) {
  auto job = std::make_shared<Job>(io);
  asio::post(pool, [work = std::move(work), job] {
    job->result = work();
    asio::post(job->done.get_executor(), [job] { job->done.cancel(); });
  });
  return wait_for(job);
}

awaitable<void> sleep_for(milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(duration);
  boost::system::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ignored));
}

std::string seconds_text(SteadyClock::duration elapsed) {
  return fmt::format("{:.1f}s", std::chrono::duration_cast<milliseconds>(elapsed).count() / 1000.0);
}

long elapsed_ms(SteadyClock::time_point since) {
  return static_cast<long>(
      std::chrono::duration_cast<milliseconds>(SteadyClock::now() - since).count());
}

} // namespace slipway::daemon

#include "runtime/daemon/cluster.hpp"

#include "common/files.hpp"
#include "common/output.hpp"
#include "runtime/release_store.hpp"

namespace slipway::daemon {

namespace fs = std::filesystem;

namespace {

template <class T>
awaitable<Expected<T>> collect(awaitable<Expected<void>> done,
                               std::shared_ptr<Expected<T>> result) {
  auto ran = co_await std::move(done);
  if (!ran) {
    co_return std::unexpected(ran.error());
  }
  co_return std::move(*result);
}

// Runs `work` on the pool; its value comes back on the loop.
template <class T>
awaitable<Expected<T>> off_loop_value(Context& context, std::function<Expected<T>()> work) {
  auto result = std::make_shared<Expected<T>>(std::unexpected(Error{"not run"}));
  return collect<T>(context.off_loop([work = std::move(work), result]() -> Expected<void> {
    *result = work();
    return {};
  }),
                    result);
}

// What the engine throws (a JSON answer of an unexpected shape) is its error, not the
// daemon's end.
template <class Call>
auto guarded(Call call) -> decltype(call()) {
  try {
    return call();
  } catch (const std::exception& error) {
    return std::unexpected(Error{fmt::format("the cluster engine failed: {}", error.what())});
  }
}

} // namespace

void LineQueue::push(std::string_view line) {
  std::lock_guard lock(m_mutex);
  m_lines.emplace_back(line);
}

std::vector<std::string> LineQueue::take() {
  std::lock_guard lock(m_mutex);
  std::vector<std::string> lines(std::make_move_iterator(m_lines.begin()),
                                 std::make_move_iterator(m_lines.end()));
  m_lines.clear();
  return lines;
}

awaitable<Expected<void>> ClusterCalls::prepare(std::string app,
                                                std::shared_ptr<const Release> release,
                                                std::shared_ptr<LineQueue> lines) {
  return m_context.off_loop([&engine = m_engine, app, release, lines]() -> Expected<void> {
    return guarded([&] {
      return engine.prepare(app, *release,
                            [&](std::string_view line) { lines->push(detail_line(line)); });
    });
  });
}

awaitable<Expected<void>> ClusterCalls::release_phase(std::string app,
                                                      std::shared_ptr<const Release> release,
                                                      std::shared_ptr<LineQueue> lines) {
  fs::path log = ReleaseStore(m_context.layout, app).output_log(release->version);
  auto timeout = m_context.config.release.phase_timeout;
  return m_context.off_loop([&engine = m_engine, app, release, lines, log,
                             timeout]() -> Expected<void> {
    auto file = TRY(AtomicFile::create(log, 0600));
    lines->push(step_line(fmt::format("Running release command: {}", release->release_command)));
    Expected<void> written;
    auto status = guarded([&] {
      return engine.run_once(app, *release, "release.1", "release", timeout,
                             [&](std::string_view line) {
                               lines->push(detail_line(line));
                               if (written) {
                                 written = file.write(std::string(line) + "\n");
                               }
                             });
    });
    TRY(written);
    TRY(file.commit());
    if (!status) {
      return fail("release command: {}", status.error().message);
    }
    if (*status != 0) {
      return fail("release command exited with status {}", *status);
    }
    return {};
  });
}

awaitable<Expected<void>> ClusterCalls::apply(std::string app, std::string host,
                                              std::shared_ptr<const Release> release,
                                              std::vector<std::pair<std::string, int>> formation,
                                              HealthCheck health) {
  return m_context.off_loop(
      [&engine = m_engine, app, host, release, formation, health]() -> Expected<void> {
        return guarded([&] {
          return engine.apply({.app = app,
                               .host = host,
                               .release = *release,
                               .formation = formation,
                               .health = health});
        });
      });
}

awaitable<Expected<std::vector<ClusterTask>>> ClusterCalls::tasks(std::string app) {
  return off_loop_value<std::vector<ClusterTask>>(
      m_context, [&engine = m_engine, app] { return guarded([&] { return engine.tasks(app); }); });
}

awaitable<Expected<std::vector<int>>> ClusterCalls::releases(std::string app) {
  return off_loop_value<std::vector<int>>(m_context, [&engine = m_engine, app] {
    return guarded([&] { return engine.releases(app); });
  });
}

awaitable<Expected<void>> ClusterCalls::remove(std::string app, int release) {
  return m_context.off_loop([&engine = m_engine, app, release] {
    return guarded([&] { return engine.remove(app, release); });
  });
}

awaitable<Expected<void>> ClusterCalls::restart(std::string app, int release, std::string type) {
  return m_context.off_loop([&engine = m_engine, app, release, type] {
    return guarded([&] { return engine.restart(app, release, type); });
  });
}

awaitable<Expected<std::vector<ClusterLogLine>>> ClusterCalls::logs(std::string app,
                                                                    std::string since) {
  return off_loop_value<std::vector<ClusterLogLine>>(m_context, [&engine = m_engine, app, since] {
    return guarded([&] { return engine.logs(app, since); });
  });
}

awaitable<Expected<int>> ClusterCalls::run_once(std::string app,
                                                std::shared_ptr<const Release> release,
                                                std::string command,
                                                std::shared_ptr<LineQueue> lines) {
  auto timeout = m_context.config.release.phase_timeout;
  return off_loop_value<int>(
      m_context, [&engine = m_engine, app, release, command, lines, timeout] {
        return guarded([&] {
          return engine.run_once(app, *release, "run.1", command, timeout,
                                 [&](std::string_view line) { lines->push(line); });
        });
      });
}

} // namespace slipway::daemon

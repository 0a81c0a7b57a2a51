#include "runtime/daemon/nginx.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/files.hpp"
#include "common/proc.hpp"
#include "common/subprocess.hpp"
#include "runtime/daemon/health.hpp"

namespace slipway::daemon {

namespace fs = std::filesystem;

namespace {

constexpr milliseconds k_router_timeout{10000};
constexpr milliseconds k_probe_timeout{2000};

// Where the Platform API listens, as its service wrote it ("" when it does not).
std::string api_address(const Layout& layout) {
  auto text = read_file(layout.api_address_file());
  if (!text) {
    return "";
  }
  return text->substr(0, text->find_last_not_of("\n \t") + 1);
}
constexpr milliseconds k_min_delay{200};
constexpr milliseconds k_max_delay{5000};

// Kills the workers that a killed nginx master (pid `master`, started at `start`) left, and
// waits until they are gone: they hold the listening sockets. Returns how many are left.
int kill_nginx_group(int master, long start) {
  auto members = [master, start] {
    std::vector<int> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/proc", ec)) {
      std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      int pid = std::stoi(name);
      auto stat = process_stat(pid);
      if (stat && orphaned_worker(*stat, pid, master, start)) {
        found.push_back(pid);
      }
    }
    return found;
  };
  auto left = members();
  for (int pid : left) {
    kill(pid, SIGKILL);
  }
  for (int i = 0; i < 200 && !left.empty(); ++i) {
    usleep(10000);
    left = members();
  }
  return static_cast<int>(left.size());
}

bool still_listening(int pid) {
  auto title = read_file(fmt::format("/proc/{}/cmdline", pid));
  return title && worker_still_listening(*title);
}

// Whether the master has a worker that is not one of `before` (a new configuration's).
bool new_worker_started(int master, const std::vector<int>& before) {
  for (int pid : descendant_pids(master)) {
    if (std::ranges::find(before, pid) == before.end() && still_listening(pid)) {
      return true;
    }
  }
  return false;
}

} // namespace

std::optional<PidRecord> parse_pid_record(std::string_view text) {
  PidRecord record;
  std::string copy(text);
  if (std::sscanf(copy.c_str(), "%d %ld", &record.pid, &record.start) != 2 || record.pid <= 1) {
    return std::nullopt;
  }
  return record;
}

std::optional<long> parse_generation(std::string_view body) {
  long seen = 0;
  if (std::from_chars(body.data(), body.data() + body.size(), seen).ec != std::errc()) {
    return std::nullopt;
  }
  return seen;
}

bool worker_still_listening(std::string_view cmdline) {
  return cmdline.find("worker process") != std::string_view::npos &&
         cmdline.find("shutting down") == std::string_view::npos;
}

bool orphaned_worker(const ProcessStat& stat, int pid, int master, long start) {
  return pid != master && stat.pgid == master && stat.ppid != master && stat.start_time >= start &&
         stat.comm.starts_with("nginx") && stat.state != 'Z';
}

Nginx::Nginx(Context& context, std::function<std::vector<Route>()> routes)
    : m_context(context), m_routes(std::move(routes)), m_files{context.layout.nginx_dir()},
      m_backoff(k_min_delay) {}

void Nginx::kill_leftover() {
  // By pid and start time: pids are reused within seconds here.
  auto text = read_file(record());
  auto found = text ? parse_pid_record(*text) : std::nullopt;
  if (!found) {
    return;
  }
  auto [pid, start] = *found;
  if (process_alive(pid, start)) {
    kill(pid, SIGQUIT);
    for (int i = 0; i < 250 && process_alive(pid, start); ++i) {
      usleep(20000);
    }
    kill(pid, SIGKILL);
    m_context.say("stopped nginx pid {}, left running by an earlier daemon", pid);
  }
  // Its workers outlive a master killed with SIGKILL, and keep the port.
  kill_nginx_group(pid, start);
}

// Coroutines cannot use TRY (it returns): errors are passed on with co_return.
awaitable<Expected<void>> Nginx::start() {
  std::error_code ec;
  for (const char* dir : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
    fs::create_directories(m_files.prefix / dir, ec);
  }
  long generation = ++m_generation;
  if (auto written = write_file_replaced(m_files.config(),
                                         nginx_config(m_context.config, m_files, m_routes(),
                                                      generation, api_address(m_context.layout)));
      !written) {
    co_return written;
  }
  fs::remove(m_files.control_socket(), ec);
  std::string nginx = fs::exists("/usr/sbin/nginx", ec) ? "/usr/sbin/nginx" : "nginx";
  Command command{.argv = {nginx, "-p", m_files.prefix.string(), "-c", m_files.config().string(),
                           "-e", m_files.error_log().string()}};
  // nginx keeps the daemon's ambient capabilities: it may have to bind port 80.
  auto process = spawn(command, {.capture_output = true,
                                 .new_process_group = true,
                                 .death_signal = SIGTERM,
                                 .keep_capabilities = true});
  if (!process) {
    co_return std::unexpected(process.error());
  }
  m_pid = process->pid;
  m_start = process_start_time(process->pid);
  m_running = true;
  if (auto written = write_file_atomic(record(), fmt::format("{} {}\n", m_pid, m_start));
      !written) {
    m_context.say("warning: {}: a daemon killed now would leave nginx running",
                  written.error().message);
  }
  auto output = std::make_shared<asio::posix::stream_descriptor>(m_context.io, process->output_fd);
  auto pidfd = std::make_shared<asio::posix::stream_descriptor>(m_context.io, process->pidfd);
  asio::co_spawn(m_context.io, relay_output(output), asio::detached);
  asio::co_spawn(m_context.io, watch(pidfd, process->pid), asio::detached);
  auto reached = co_await wait_generation(generation, SteadyClock::now() + k_router_timeout);
  if (!reached) {
    co_return fail("nginx did not start: {} (see {})", reached.error().message,
                   m_files.error_log().string());
  }
  m_ready = true;
  m_context.say("router listening on {}:{}", m_context.config.server.http_address,
                m_context.config.server.http_port);
  co_return Expected<void>();
}

awaitable<void> Nginx::relay_output(std::shared_ptr<asio::posix::stream_descriptor> pipe) {
  std::array<char, 4096> buffer{};
  std::string pending;
  while (true) {
    boost::system::error_code error;
    std::size_t n = co_await pipe->async_read_some(asio::buffer(buffer),
                                                   asio::redirect_error(use_awaitable, error));
    pending.append(buffer.data(), n);
    for (auto newline = pending.find('\n'); newline != std::string::npos;
         newline = pending.find('\n')) {
      m_context.say("nginx: {}", pending.substr(0, newline));
      pending.erase(0, newline + 1);
    }
    if (error) {
      co_return;
    }
  }
}

awaitable<void> Nginx::watch(std::shared_ptr<asio::posix::stream_descriptor> pidfd, int pid) {
  boost::system::error_code error;
  co_await pidfd->async_wait(asio::posix::descriptor_base::wait_read,
                             asio::redirect_error(use_awaitable, error));
  int native_status = 0;
  while (waitpid(pid, &native_status, 0) < 0 && errno == EINTR) {
  }
  m_running = false;
  // A master killed with SIGKILL leaves its workers running, holding the port.
  if (auto killed = co_await kill_orphaned_workers(pid, m_start); !killed) {
    m_context.say("{}", killed.error().message);
  }
  if (m_context.stopping || !m_ready) {
    co_return; // stopping, or it never started: start() reports that
  }
  m_context.say("nginx {}: starting it again", exit_status_of(native_status).describe());
  // Until it is back, backing off: a start that fails (the port still taken) ends with the
  // new nginx's exit, whose own watch tries again.
  while (true) {
    co_await sleep_for(m_backoff);
    m_backoff = std::min<milliseconds>(m_backoff * 2, k_max_delay);
    if (m_context.stopping) {
      co_return;
    }
    int before = m_pid;
    auto started = co_await start();
    if (started) {
      m_backoff = k_min_delay;
      co_await update_logged();
      co_return;
    }
    m_context.say("{}", started.error().message);
    if (m_pid != before) {
      co_return; // an nginx was started: its watch takes over
    }
  }
}

// kill_nginx_group, off the loop (a plain function: see context.hpp).
awaitable<Expected<void>> Nginx::kill_orphaned_workers(int master, long start) {
  return m_context.off_loop([master, start]() -> Expected<void> {
    if (int left = kill_nginx_group(master, start); left > 0) {
      return fail("{} nginx workers of pid {} would not die", left, master);
    }
    return {};
  });
}

awaitable<Expected<void>> Nginx::wait_generation(long generation,
                                                 SteadyClock::time_point deadline) {
  std::string problem = "no answer";
  while (SteadyClock::now() < deadline && m_running) {
    HttpAnswer answer =
        co_await http_get_unix(m_files.control_socket(), "/generation", k_probe_timeout);
    if (answer.status == 200) {
      long seen = parse_generation(answer.body).value_or(0);
      if (seen >= generation) {
        co_return Expected<void>();
      }
      problem = fmt::format("it still serves configuration {}", seen);
    } else if (!answer.problem.empty()) {
      problem = answer.problem;
    }
    co_await sleep_for(milliseconds(2));
  }
  co_return fail("{}", m_running ? problem : "nginx exited");
}

awaitable<Expected<void>> Nginx::update() {
  long generation = ++m_generation;
  // Derived from the apps' state and written again at every start: no fsync to wait for.
  if (auto written = write_file_replaced(m_files.config(),
                                         nginx_config(m_context.config, m_files, m_routes(),
                                                      generation, api_address(m_context.layout)));
      !written) {
    co_return written;
  }
  if (!m_running) {
    co_return fail("nginx is not running");
  }
  std::vector<int> before = descendant_pids(m_pid);
  m_old_workers.insert(before.begin(), before.end());
  auto deadline = SteadyClock::now() + k_router_timeout;
  kill(m_pid, SIGHUP);
  // Once the master has started a worker of the new configuration, it has taken it (one it
  // refuses starts none). The old workers would still accept connections for 100 ms, until
  // the master tells them to stop (ngx_master_process_cycle: "allow new processes to
  // start"), and they would get most of them: they wait in epoll ahead of the new ones. So
  // the daemon tells them at once, with the SIGQUIT that message is; connections meanwhile
  // wait in the listening socket's queue for a new worker. The master cannot take their
  // exit for a crash to restart: it blocks SIGCHLD until it has marked them as exiting.
  while (SteadyClock::now() < deadline && m_running) {
    if (new_worker_started(m_pid, before)) {
      for (int pid : before) {
        if (auto stat = process_stat(pid); stat && stat->ppid == m_pid && still_listening(pid)) {
          kill(pid, SIGQUIT);
        }
      }
      break;
    }
    co_await sleep_for(milliseconds(1));
  }
  auto reached = co_await wait_generation(generation, deadline);
  if (!reached) {
    co_return fail("nginx did not load the new configuration: {} (see {})", reached.error().message,
                   m_files.error_log().string());
  }
  // Then until each old worker has retitled itself "shutting down", which it does as it
  // closes its listeners.
  deadline = SteadyClock::now() + milliseconds(2000);
  while (SteadyClock::now() < deadline && std::ranges::any_of(before, still_listening)) {
    co_await sleep_for(milliseconds(1));
  }
  co_return Expected<void>();
}

awaitable<void> Nginx::update_logged() {
  if (auto updated = co_await update(); !updated) {
    m_context.say("{}", updated.error().message);
  }
}

awaitable<void> Nginx::wait_old_workers(SteadyClock::time_point deadline) {
  while (SteadyClock::now() < deadline) {
    std::erase_if(m_old_workers, [](int pid) {
      return kill(pid, 0) != 0 || !fs::exists(fmt::format("/proc/{}/status", pid));
    });
    if (m_old_workers.empty()) {
      break;
    }
    co_await sleep_for(k_poll);
  }
}

awaitable<void> Nginx::stop() {
  if (m_pid <= 0) {
    co_return;
  }
  kill(m_pid, SIGQUIT);
  auto deadline = SteadyClock::now() + m_context.config.runtime.stop_grace;
  while (m_running && SteadyClock::now() < deadline) {
    co_await sleep_for(k_poll);
  }
  if (m_running) {
    kill(m_pid, SIGKILL);
  }
}

} // namespace slipway::daemon

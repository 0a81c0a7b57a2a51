#include "common/subprocess.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <map>
#include <set>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/args.hpp>
#include <boost/process/async.hpp>
#include <boost/process/async_pipe.hpp>
#include <boost/process/child.hpp>
#include <boost/process/exe.hpp>
#include <boost/process/extend.hpp>
#include <boost/process/io.hpp>
#include <boost/process/start_dir.hpp>
#include <climits>

#include "common/child.hpp"
#include "common/time.hpp"

namespace slipway {

namespace bp = boost::process;
namespace asio = boost::asio;
using namespace slipway::child;

namespace {

constexpr std::size_t k_max_line = 64 * 1024;
constexpr std::chrono::seconds k_drain_grace{5};

// Runs in the child between fork and exec, after the stdio redirections: a process group
// of its own (so a timeout can kill the whole tree) and no inherited descriptors beyond
// 0-2 and those it was given (Boost.Process's limit_handles is broken in 1.74; see
// docs/DECISIONS.md "Children keep only the descriptors they are given").
struct ChildSetupHandler : bp::extend::handler {
  char** envp; // prepared by the parent: Boost.Process 1.74's environment reads out of bounds
  const ChildSetup* setup;

  template <class Executor>
  void on_exec_setup(Executor& executor) const {
    executor.env = envp;
    setpgid(0, 0);
    signal(SIGPIPE, SIG_DFL);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (!apply_child_setup(*setup)) {
      _exit(126);
    }
    keep_only_inherited(*setup);
  }
};

// Splits the byte stream into lines and hands them on.
class LineSplitter {
 public:
  explicit LineSplitter(std::function<void(std::string_view)> sink) : m_sink(std::move(sink)) {}

  void feed(std::string_view data) {
    while (!data.empty()) {
      std::size_t room = k_max_line - m_pending.size();
      auto newline = data.substr(0, room).find('\n');
      if (newline != std::string_view::npos) {
        m_pending.append(data.substr(0, newline));
        flush();
        data.remove_prefix(newline + 1);
        continue;
      }
      std::size_t take = std::min(room, data.size());
      m_pending.append(data.substr(0, take));
      data.remove_prefix(take);
      if (m_pending.size() == k_max_line) {
        flush();
      }
    }
  }

  void finish() {
    if (!m_pending.empty()) {
      flush();
    }
  }

 private:
  void flush() {
    if (!m_pending.empty() && m_pending.back() == '\r') {
      m_pending.pop_back();
    }
    m_sink(m_pending);
    m_pending.clear();
  }

  std::function<void(std::string_view)> m_sink;
  std::string m_pending;
};

} // namespace

Expected<ExitStatus> run(const Command& command) {
  const std::string exe = TRY(executable(command));
  std::vector<std::string> args(command.argv.begin() + 1, command.argv.end());

  asio::io_context io;
  bp::async_pipe out(io);
  bp::async_pipe err(io);
  bp::async_pipe in(io);
  give_pipes(command.child, {out.native_sink(), err.native_sink(), in.native_source()});
  const bool separate_stderr = static_cast<bool>(command.on_stderr_line);
  ExitStatus status;
  LineSplitter lines(command.on_line);
  pid_t pgid = 0;
  bool exited = false;
  int open_pipes = separate_stderr ? 2 : 1;
  bool eof = false;
  asio::steady_timer timer(io);
  asio::steady_timer watch_timer(io);
  auto finish_when_done = [&] {
    if (exited && eof) {
      timer.cancel();
    }
  };

  std::error_code launch_error;
  auto on_exit = [&](int, const std::error_code&) {
    exited = true;
    if (command.kill_group_on_exit && pgid > 0) {
      killpg(pgid, SIGKILL);
    }
    if (!eof) {
      // Something that left the process group may still hold the pipes: stop waiting
      // for it after a grace period.
      timer.expires_after(k_drain_grace);
      timer.async_wait([&](const boost::system::error_code& error) {
        if (!error) {
          out.close();
          err.close();
        }
      });
    }
    watch_timer.cancel();
    finish_when_done();
  };
  std::vector<std::string> env_entries = child_environment(command);
  std::vector<char*> envp = null_terminated(env_entries);
  auto launch = [&](auto&&... redirections) {
    return bp::child(bp::exe = exe, bp::args = args,
                     bp::start_dir = command.cwd.empty() ? std::filesystem::current_path().string()
                                                         : command.cwd.string(),
                     redirections..., bp::std_in < in, bp::on_exit = on_exit, io,
                     ChildSetupHandler{.envp = envp.data(), .setup = &command.child}, launch_error);
  };
  bp::child child = separate_stderr ? launch(bp::std_out > out, bp::std_err > err)
                                    : launch((bp::std_out & bp::std_err) > out);
  if (!separate_stderr) {
    err.close();
  }
  if (launch_error) {
    return fail("cannot run '{}': {}", command.argv[0], launch_error.message());
  }
  pgid = child.id();
  if (command.on_start) {
    command.on_start(pgid);
  }

  if (command.stdin_data) {
    asio::async_write(in, asio::buffer(*command.stdin_data),
                      [&](const boost::system::error_code&, std::size_t) { in.close(); });
  } else {
    in.close();
  }

  // Reads one pipe to its end, a line at a time.
  struct Reader {
    bp::async_pipe& pipe;
    LineSplitter lines;
    std::array<char, 65536> buffer{};
  };
  auto on_pipe_closed = [&] {
    if (--open_pipes == 0) {
      eof = true;
      finish_when_done();
    }
  };
  std::vector<std::unique_ptr<Reader>> readers;
  readers.push_back(std::make_unique<Reader>(Reader{out, std::move(lines), {}}));
  if (separate_stderr) {
    readers.push_back(
        std::make_unique<Reader>(Reader{err, LineSplitter(command.on_stderr_line), {}}));
  }
  std::function<void(Reader&)> read_more = [&](Reader& reader) {
    reader.pipe.async_read_some(asio::buffer(reader.buffer),
                                [&](const boost::system::error_code& error, std::size_t n) {
                                  std::string_view data(reader.buffer.data(), n);
                                  if (&reader.pipe == &out && !command.on_line) {
                                    status.output.append(data); // exactly as printed
                                  } else {
                                    reader.lines.feed(data);
                                  }
                                  if (error) {
                                    on_pipe_closed();
                                  } else {
                                    read_more(reader);
                                  }
                                });
  };
  for (auto& reader : readers) {
    read_more(*reader);
  }

  if (command.timeout.count() > 0) {
    timer.expires_after(command.timeout);
    timer.async_wait([&](const boost::system::error_code& error) {
      if (!error && !exited) {
        status.timed_out = true;
        killpg(pgid, SIGKILL);
      }
    });
  }

  std::function<void()> watch_later = [&] {
    watch_timer.expires_after(command.watch_interval);
    watch_timer.async_wait([&](const boost::system::error_code& error) {
      if (error || exited) {
        return;
      }
      if (auto reason = command.watch()) {
        status.stopped_because = *reason;
        killpg(pgid, SIGKILL);
        return;
      }
      watch_later();
    });
  };
  if (command.watch) {
    watch_later();
  }

  // Runs until the child has exited and every writer of its output pipe is gone.
  io.run();
  for (auto& reader : readers) {
    reader->lines.finish();
  }

  child.wait();
  ExitStatus ended = exit_status_of(child.native_exit_code());
  status.code = ended.code;
  status.signal = ended.signal;
  return status;
}

Expected<void> spawn_detached(const std::vector<std::string>& argv,
                              const std::map<std::string, std::string>& env,
                              const std::vector<std::string>& env_remove) {
  if (argv.empty()) {
    return fail("cannot run an empty command");
  }
  std::vector<char*> args = null_terminated(argv);
  std::vector<std::string> env_entries =
      child_environment(Command{.argv = argv, .env = env, .env_remove = env_remove});
  std::vector<char*> envp = null_terminated(env_entries);
  // Fork twice so the worker is adopted by init and never waited for by us. The new session
  // comes before the second fork: when we return, the worker is already out of our process
  // group, so whoever ends that group as we exit (a shell, a test harness, sshd) cannot
  // take the worker with it.
  pid_t child = fork();
  if (child < 0) {
    return fail("cannot start '{}': {}", argv[0], errno_text(errno));
  }
  if (child == 0) {
    setsid();
    if (fork() != 0) {
      _exit(0);
    }
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    close_range(3, UINT_MAX, 0);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return {};
}

Expected<SpawnedProcess> spawn(const Command& command, const SpawnOptions& options) {
  const std::string exe = TRY(executable(command));
  // Everything the child needs is prepared before fork: after it, only async-signal-safe
  // calls (the daemon forks while other threads run).
  std::vector<std::string> env_entries = child_environment(command);
  std::vector<char*> envp = null_terminated(env_entries);
  std::vector<char*> argv = null_terminated(command.argv);
  std::string cwd = command.cwd.string();
  int output[2] = {-1, -1};
  int null_fd = -1;
  if (options.capture_output) {
    if (pipe2(output, O_CLOEXEC) != 0) {
      return fail("cannot create a pipe: {}", errno_text(errno));
    }
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    give_pipes(command.child, {output[1]});
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int error = errno;
    close(output[0]);
    close(output[1]);
    close(null_fd);
    return fail("cannot start '{}': {}", command.argv[0], errno_text(error));
  }
  if (pid == 0) {
    if (options.new_process_group) {
      setpgid(0, 0);
    }
    if (!options.keep_capabilities) {
      prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    }
    if (options.capture_output) {
      dup2(null_fd, 0);
      dup2(output[1], 1);
      dup2(output[1], 2);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (!apply_child_setup(command.child)) {
      _exit(126);
    }
    // After the user changed: a change of credentials clears the parent-death signal.
    if (options.death_signal != 0) {
      prctl(PR_SET_PDEATHSIG, options.death_signal);
      if (getppid() != parent) {
        _exit(127); // the parent is already gone
      }
    }
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) {
      _exit(127);
    }
    keep_only_inherited(command.child);
    execve(exe.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(output[1]);
  close(null_fd);
  // (glibc 2.36 declares pidfd_open without C linkage for C++, so the syscall itself.)
  SpawnedProcess process{.pid = pid,
                         .pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0)),
                         .output_fd = output[0]};
  if (process.pidfd < 0) {
    int error = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(process.output_fd);
    return fail("cannot watch '{}': pidfd_open: {}", command.argv[0], errno_text(error));
  }
  fcntl(process.pidfd, F_SETFD, FD_CLOEXEC);
  return process;
}

ExitStatus exit_status_of(int native_status) {
  ExitStatus status;
  if (WIFSIGNALED(native_status)) {
    status.signal = WTERMSIG(native_status);
    status.code = 128 + status.signal;
  } else {
    status.code = WEXITSTATUS(native_status);
  }
  return status;
}

ExitStatus wait_spawned(SpawnedProcess& process) {
  int native_status = 0;
  while (waitpid(process.pid, &native_status, 0) < 0 && errno == EINTR) {
  }
  if (process.pidfd >= 0) {
    close(process.pidfd);
    process.pidfd = -1;
  }
  return exit_status_of(native_status);
}

std::string ExitStatus::describe(std::chrono::milliseconds timeout) const {
  if (!stopped_because.empty()) {
    return stopped_because;
  }
  if (timed_out) {
    return timeout.count() > 0 ? fmt::format("timed out after {}", format_duration(timeout))
                               : "timed out";
  }
  if (signal != 0) {
    return fmt::format("was killed by signal {}", signal);
  }
  return fmt::format("exited with status {}", code);
}

} // namespace slipway

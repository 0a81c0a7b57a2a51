#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "common/lazy_library.hpp"

namespace slipway {

namespace {

const LazyLibrary libc{"libc.so.6"};
const LazyLibrary missing{"libslipway-no-such-library.so.1"};

namespace lazy_libc {
SLIPWAY_LAZY_FUNCTION(libc, strlen)
} // namespace lazy_libc

struct Exit {
  int status;
  std::string stderr_text;
};

// Runs `body` in a child whose stderr is captured: what fails to load ends the process.
template <class F>
Exit in_child(F body) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::close(pipe_fds[0]);
    body();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) {
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

} // namespace

TEST_CASE("a lazy function calls the library's own function with its own types", "[lazy_library]") {
  CHECK(lazy_libc::strlen("slipway") == 7);
  CHECK(libc.function("strlen") == libc.function("strlen"));
}

TEST_CASE("a library that cannot be loaded ends the process with a message naming it",
          "[lazy_library]") {
  auto exit = in_child([] { missing.function("anything"); });
  CHECK(exit.status == 127);
  CHECK(exit.stderr_text.starts_with("slipway: libslipway-no-such-library.so.1: "));
}

TEST_CASE("a function the library lacks ends the process with a message naming it",
          "[lazy_library]") {
  auto exit = in_child([] { libc.function("slipway_no_such_function"); });
  CHECK(exit.status == 127);
  CHECK(exit.stderr_text.find("slipway_no_such_function") != std::string::npos);
}

} // namespace slipway

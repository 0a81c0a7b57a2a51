#include <catch2/catch.hpp>

#include "common/pipe_capture.hpp"
#include "common/subprocess.hpp"

using namespace slipway;

namespace {

// Runs `script` under sh with the capture's write end as $1.
ExitStatus run_writing(PipeCapture& capture, const std::string& script) {
  Command command{.argv = {"/bin/sh", "-c", script, "sh", capture.descriptor()}};
  command.child.inherit.push_back(capture.write_end());
  auto status = run(command);
  REQUIRE(status);
  return *status;
}

} // namespace

TEST_CASE("a pipe capture keeps what a child wrote to the descriptor it inherited, up to its "
          "limit",
          "[pipe_capture]") {
  auto capture = PipeCapture::open(1024);
  REQUIRE(capture);
  CHECK(run_writing(**capture, "echo hello >&\"$1\"; echo elsewhere").ok());
  auto [text, overflow] = (*capture)->finish();
  CHECK(text == "hello\n");
  CHECK_FALSE(overflow);

  auto small = PipeCapture::open(10);
  REQUIRE(small);
  // Far more than a pipe holds: the child is never blocked, and what is past the limit goes.
  CHECK(run_writing(**small, "head -c 1000000 /dev/zero >&\"$1\"").ok());
  auto [kept, more] = (*small)->finish();
  CHECK(kept.size() == 10);
  CHECK(more);
}

TEST_CASE("a pipe capture does not wait past its grace for a process the child left holding "
          "the pipe",
          "[pipe_capture]") {
  auto capture = PipeCapture::open(1024);
  REQUIRE(capture);
  CHECK(run_writing(**capture, "(sleep 5) >&\"$1\" 2>/dev/null & echo done >&\"$1\"").ok());
  auto started = std::chrono::steady_clock::now();
  auto [text, overflow] = (*capture)->finish(std::chrono::milliseconds(300));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  CHECK(text == "done\n");
}

#include <catch2/catch.hpp>

#include "cluster/docker.hpp"
#include "cluster/swarm.hpp"
#include "common/config.hpp"
#include "runtime/apps.hpp"
#include "runtime/control.hpp"
#include "runtime/daemon/router.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::cluster;
using namespace slipway::test;
namespace fs = std::filesystem;

namespace {

// One frame of the engine's log stream: stream (1 stdout, 2 stderr), three zeros, length.
std::string frame(int stream, std::string_view payload) {
  std::string out{static_cast<char>(stream), 0, 0, 0};
  auto size = static_cast<std::uint32_t>(payload.size());
  for (int shift : {24, 16, 8, 0}) {
    out += static_cast<char>((size >> shift) & 0xff);
  }
  return out + std::string(payload);
}

} // namespace

TEST_CASE("the engine's framed log stream is read line by line, whatever the frames cut",
          "[swarm]") {
  std::string stream = frame(1, "2026-12-04T09:00:00.5Z one\n2026-12-04T09:00:01Z tw") +
                       frame(2, "o\r\n") + frame(1, "no time here\n") +
                       frame(1, std::string(300, 'x') + "\n");
  auto lines = parse_docker_logs(stream);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].time == "2026-12-04T09:00:00.5Z");
  CHECK(lines[0].text == "one");
  CHECK(lines[1].time == "2026-12-04T09:00:01Z");
  CHECK(lines[1].text == "two"); // across two frames, its \r dropped
  CHECK(lines[2].time.empty());
  CHECK(lines[2].text == "no time here");
  CHECK(lines[3].text.size() == 300);
  // A frame cut short, or a header that claims more than came, gives nothing of it.
  std::string cut = frame(1, "2026-12-04T09:00:02Z whole\n");
  CHECK(parse_docker_logs(cut.substr(0, cut.size() - 3)).empty());
  CHECK(parse_docker_logs(std::string("\x01\0\0\0\xff\xff\xff\xff", 8) + "abc").empty());
  CHECK(parse_docker_logs("").empty());
  CHECK(parse_docker_logs("abc").empty());
}

TEST_CASE("config vars reach a task as a file that bash reads back byte for byte, whatever they "
          "hold",
          "[swarm]") {
  ConfigVars config = {{"PLAIN", "value"},
                       {"QUOTES", "it's \"quoted\" \\ back"},
                       {"SUBSTITUTION", "$(touch pwned) `touch pwned` ${HOME}"},
                       {"NEWLINES", "line one\nline two\n"},
                       {"EMPTY", ""}};
  std::string file = config_file(config);
  CHECK(file.starts_with("# "));
  TempDir dir;
  write_file(dir / "config", file);
  for (const auto& [name, value] : config) {
    INFO(name);
    auto read = run_program(
        {"bash", "-c", ". '" + (dir / "config").string() + "'; printf %s \"$" + name + "\""},
        dir.path());
    REQUIRE(read.ok());
    CHECK(read.output == value);
  }
  CHECK_FALSE(fs::exists(dir / "pwned"));
  // A name that is not one (a release record edited by hand) is left out, not run.
  CHECK_FALSE(contains(config_file({{"X=1; touch pwned; Y", "v"}}), "pwned"));
  // Without config vars it is still a file (Swarm refuses an empty secret).
  CHECK_FALSE(config_file({}).empty());
}

TEST_CASE("services are named APP-TYPE-vN, in the characters Docker takes", "[swarm]") {
  CHECK(service_name("shop", "web", 12) == "shop-web-v12");
  CHECK(service_name("shop", "slow_worker", 3) == "shop-slow-worker-v3");
}

TEST_CASE("the Docker host is a Unix socket's address", "[swarm]") {
  CHECK(docker_socket("unix:///var/run/docker.sock").value() == "/var/run/docker.sock");
  CHECK_FALSE(docker_socket("tcp://10.0.0.1:2375"));
  CHECK_FALSE(docker_socket("/var/run/docker.sock"));
  CHECK(docker_filters({{"label", {"a=b"}}}) == "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D");
}

TEST_CASE("[scheduler] is read, and what it does not understand is refused by name", "[swarm]") {
  auto config = parse_config("[scheduler]\nengine = \"swarm\"\ndocker_host = "
                             "\"unix:///run/d.sock\"\nregistry = \"http://127.0.0.1:5000\"\n");
  REQUIRE(config);
  CHECK(config->scheduler.engine == Engine::swarm);
  CHECK(config->scheduler.docker_host == "unix:///run/d.sock");
  CHECK(config->scheduler.registry == "http://127.0.0.1:5000");
  CHECK(parse_config("[scheduler]\nregistry = \"registry.example.com:5000\"\n"));
  CHECK(Config{}.scheduler.engine == Engine::local);
  CHECK(Config{}.scheduler.docker_host == "unix:///var/run/docker.sock");
  struct Bad {
    const char* toml;
    const char* says;
  };
  for (auto [toml, says] :
       {Bad{"[scheduler]\nengine = \"kubernetes\"\n", "unknown engine 'kubernetes'"},
        Bad{"[scheduler]\nengine = 1\n", "scheduler.engine"},
        Bad{"[scheduler]\ndocker_host = \"tcp://10.0.0.1:2375\"\n", "is not a Unix socket"},
        Bad{"[scheduler]\nregistry = \"no port\"\n", "is not a registry's"},
        Bad{"[scheduler]\nregistry = \"http://a b:5000\"\n", "is not a registry's"},
        Bad{"[scheduler]\nregistry = \"host:99999999\"\n", "is not a registry's"},
        Bad{"[scheduler]\nnodes = 3\n", "unknown key 'scheduler.nodes'"}}) {
    INFO(toml);
    auto parsed = parse_config(toml);
    REQUIRE_FALSE(parsed);
    CHECK(contains(parsed.error().message, says));
  }
}

TEST_CASE("app.toml's scheduler overrides the server's engine, and a wrong one is refused",
          "[swarm]") {
  TempDir dir;
  Layout layout(dir.path());
  REQUIRE(create_app(layout, "demo"));
  auto info = app_info(layout, "demo");
  REQUIRE(info);
  Config config;
  CHECK(app_engine(config, *info) == Engine::local);
  config.scheduler.engine = Engine::swarm;
  CHECK(app_engine(config, *info) == Engine::swarm);
  info->scheduler = Engine::local;
  REQUIRE(save_app_info(layout, *info));
  CHECK(contains(read_text(layout.app_file("demo")), "scheduler = 'local'"));
  CHECK(app_engine(config, *app_info(layout, "demo")) == Engine::local);
  write_file(layout.app_file("demo"), "created_at = 2026-11-26T07:00:00Z\nscheduler = \"k8s\"\n");
  auto bad = app_info(layout, "demo");
  REQUIRE_FALSE(bad);
  CHECK(contains(bad.error().message, "'scheduler': unknown engine 'k8s'"));
}

TEST_CASE("the control socket's run request and an activation's release phase", "[swarm]") {
  using namespace slipway::control;
  auto request = parse_request(nlohmann::json::parse(
      R"({"command":"activate","app":"demo","version":3,"release_phase":true})"));
  REQUIRE(request);
  CHECK(std::get<ActivateRequest>(*request).release_phase);
  CHECK(to_json(*request).dump() ==
        R"({"app":"demo","command":"activate","release_phase":true,"version":3})");
  auto run = parse_request(nlohmann::json::parse(R"({"command":"run","app":"demo","run":"ls"})"));
  REQUIRE(run);
  CHECK(std::get<RunRequest>(*run).run == "ls");
  auto empty = parse_request(nlohmann::json::parse(R"({"command":"run","app":"demo","run":""})"));
  REQUIRE_FALSE(empty);
  CHECK(contains(empty.error().message, "'run' needs a command"));
  CHECK_FALSE(parse_request(nlohmann::json::parse(R"({"command":"run","app":"demo"})")));
  CHECK_FALSE(parse_request(nlohmann::json::parse(R"({"command":"run","app":"../x","run":"ls"})")));
  auto status = parse_result<RunResult>(nlohmann::json::parse(R"({"status":3})"));
  REQUIRE(status);
  CHECK(status->status == 3);
  CHECK_FALSE(parse_result<RunResult>(nlohmann::json::parse(R"({"status":"3"})")));
}

TEST_CASE("a cluster's tasks are nginx upstreams by node address and published port", "[swarm]") {
  Config config;
  daemon::RouterFiles files{.prefix = "/run/nginx"};
  std::string text = daemon::nginx_config(config, files,
                                          {{.app = "shop",
                                            .hosts = {"shop.localhost"},
                                            .upstreams = {"10.0.0.7:30001", "[fd00::7]:30002"}}},
                                          1);
  CHECK(contains(text, "server 10.0.0.7:30001 max_fails=0;"));
  CHECK(contains(text, "server [fd00::7]:30002 max_fails=0;"));
}

// An app on Docker Swarm: a dockerd the test starts (a one-node swarm on loopback) and
// Debian's docker-registry, both stopped by pid. The app moves from the daemon's own
// processes to swarm, and then keeps every promise of a release: zero-downtime deploys under
// load, scaling, logs, a failed launch that leaves the live release serving, a rollback that
// runs the very image and secret it names, one-off tasks, and a daemon killed with SIGKILL
// whose successor adopts the tasks instead of starting them again.
#include <set>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/daemon_harness.hpp"
#include "tests/support/docker.hpp"
#include "tests/support/server.hpp"

namespace slipway::test {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// Requests to the app without pause, from another thread.
struct Load : daemon_e2e::Load {
  explicit Load(const Server& server)
      : daemon_e2e::Load([&server] { return server.get("shop"); }) {}
};

json ps(const Server& server) {
  auto listed = server.slipway({"ps", "-a", "shop", "--json"});
  INFO(listed.output);
  REQUIRE(listed.ok());
  return json::parse(listed.output);
}

// How many web processes `ps` shows up, all of release `version`.
bool web_up(const Server& server, int count, int version) {
  return wait_until(
      [&] {
        auto processes = ps(server);
        int up = 0;
        for (const auto& process : processes) {
          if (process["type"] == "web" && process["state"] == "up" &&
              process["release"] == version) {
            ++up;
          }
        }
        return up == count && std::cmp_equal(processes.size(), count);
      },
      60s);
}

int live_version(const Server& server) {
  for (const auto& release : server.releases("shop")) {
    if (release.value("live", false)) {
      return release["version"];
    }
  }
  return 0;
}

// The app's services, by name.
std::map<std::string, json> services(const Dockerd& dockerd) {
  std::map<std::string, json> by_name;
  for (const auto& service : dockerd.api("/services")) {
    by_name[service["Spec"]["Name"]] = service;
  }
  return by_name;
}

// The registry's digest of the app's tag.
std::string tag_digest(const Registry& registry, const std::string& tag) {
  auto head =
      run_program({"curl", "-sI", "-H", "Accept: application/vnd.oci.image.manifest.v1+json",
                   registry.url() + "/v2/shop/manifests/" + tag});
  std::string marker = "docker-content-digest: ";
  std::string lower = head.output;
  std::ranges::transform(lower, lower.begin(), [](char c) { return std::tolower(c); });
  auto at = lower.find(marker);
  REQUIRE(at != std::string::npos);
  return head.output.substr(at + marker.size(), 71);
}

} // namespace

TEST_CASE("an app moved to swarm deploys ten times under load without losing a request, scales, "
          "logs, keeps its live release through a failed launch, rolls back to the image and "
          "secret it names, runs one-off tasks, and is adopted by a daemon restarted after kill -9",
          "[swarm][serial]") {
  TempDir scratch;
  Registry registry(scratch / "registry");
  Dockerd dockerd(scratch / "dockerd.log", true);
  Server server({.config = fmt::format("[runtime]\nhealth_timeout = \"15s\"\nstop_grace = \"3s\"\n"
                                       "[scheduler]\ndocker_host = \"{}\"\nregistry = \"{}\"\n",
                                       dockerd.host(), registry.url())});
  make_rootfs(server.dir / "rootfs");
  REQUIRE(server.slipway({"images:stack", "--rootfs", (server.dir / "rootfs").string()}).ok());
  server.create("shop", fixture("apps/stage"));
  // Its container's port is reached on the container's own address.
  REQUIRE(server.slipway({"config:set", "-a", "shop", "BIND=0.0.0.0", "LOG_REQUESTS=1"}).ok());
  REQUIRE(server.push("shop").ok());
  REQUIRE(server.serves("shop", "v0 ?"));

  // Moved: the live release starts on swarm, and the router switches to it.
  auto moved = server.slipway({"apps:set", "-a", "shop", "scheduler=swarm"});
  INFO(moved.output);
  REQUIRE(moved.ok());
  CHECK(contains(moved.output, "scheduler=swarm"));
  CHECK(server.serves("shop", "v0 ?"));
  int first = live_version(server); // v2: v1 is the config set before the first push
  CHECK(services(dockerd).contains(fmt::format("shop-web-v{}", first)));
  CHECK(contains(run_program({"curl", "-s", registry.url() + "/v2/shop/tags/list"}).output,
                 fmt::format("\"v{}\"", first)));
  REQUIRE(server.slipway({"ps:scale", "-a", "shop", "web=2"}).ok());
  CHECK(web_up(server, 2, first));

  // Config vars reach the tasks through a secret, and the release phase runs as a task.
  auto configured = server.slipway({"config:set", "-a", "shop", "STAGE_NAME=swarm"});
  INFO(configured.output);
  REQUIRE(configured.ok());
  CHECK(contains(configured.output, "release phase ok"));
  CHECK(server.serves("shop", "v0 swarm"));
  int config_version = live_version(server);
  auto secret_of = [&](int version) {
    auto service = services(dockerd)[fmt::format("shop-web-v{}", version)];
    return service["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"][0]["SecretName"];
  };
  json config_secret = secret_of(config_version);
  CHECK(config_secret.get<std::string>().starts_with("shop-config-"));
  // The image has no config var in it.
  CHECK_FALSE(contains(run_program({"sh", "-c",
                                    "for f in $(find '" + (scratch / "registry").string() +
                                        "' -name data -type f); do gzip -dc \"$f\" 2>/dev/null; "
                                        "done | grep -c 'STAGE_NAME=swarm' || true"})
                           .output,
                       "1"));

  {
    Load load(server);
    for (int i = 1; i <= 10; ++i) {
      server.write("shop", "version.txt", fmt::format("v{}\n", i));
      server.commit("shop", fmt::format("v{}", i));
      auto pushed = server.push("shop");
      INFO(pushed.output);
      REQUIRE(pushed.ok());
    }
    load.finish();
    INFO(load.problems());
    CHECK(load.failures() == 0);
    CHECK(load.requests() > 100);
  }
  CHECK(server.serves("shop", "v10 swarm"));
  int live = live_version(server);
  CHECK(web_up(server, 2, live));
  // Only the live release's services are left.
  auto left = services(dockerd);
  CHECK(left.size() == 1);
  CHECK(left.contains(fmt::format("shop-web-v{}", live)));

  // The tasks' output is the app's log.
  for (int i = 0; i < 4; ++i) {
    run_program({"curl", "-s", "-A", "test", "-H", "Host: shop.localhost",
                 fmt::format("http://127.0.0.1:{}/logged-{}", server.http_port, i)});
  }
  CHECK(wait_until(
      [&] {
        auto logs = server.slipway({"logs", "-a", "shop", "-n", "200"}).output;
        return contains(logs, "app[web.1]: request /logged-") &&
               contains(logs, "app[web.2]: request /logged-");
      },
      20s));

  // Scaled to 3, to 0 (nothing answers), and back.
  REQUIRE(server.slipway({"ps:scale", "-a", "shop", "web=3"}).ok());
  CHECK(web_up(server, 3, live));
  REQUIRE(server.slipway({"ps:scale", "-a", "shop", "web=0"}).ok());
  CHECK(wait_until([&] { return server.get("shop").status == 503; }, 20s));
  CHECK(wait_until([&] { return ps(server).empty(); }, 30s));
  REQUIRE(server.slipway({"ps:scale", "-a", "shop", "web=2"}).ok());
  CHECK(server.serves("shop", "v10 swarm", 60s));
  CHECK(web_up(server, 2, live));

  // A rolling restart: each new task healthy before its old one stops, the router following.
  {
    auto before = ps(server);
    Load load(server);
    auto restarted = server.slipway({"ps:restart", "-a", "shop", "web"});
    INFO(restarted.output);
    CHECK(restarted.ok());
    CHECK(contains(restarted.output, "2 restarted"));
    std::this_thread::sleep_for(2s); // the router follows within a second
    load.finish();
    INFO(load.problems());
    CHECK(load.failures() == 0);
    CHECK(web_up(server, 2, live));
    CHECK(ps(server)[0]["port"] != before[0]["port"]);
  }

  // A release whose processes fail: the push is refused with Swarm's reason and what the
  // task said, and the live release keeps serving.
  server.write("shop", "Procfile",
               "web: python3 -c 'import sys; print(\"cannot start\"); sys.exit(3)'\n");
  server.commit("shop", "crashes");
  auto crashed = server.push("shop");
  INFO(crashed.output);
  CHECK_FALSE(crashed.ok());
  CHECK(contains(crashed.output, "non-zero exit (3)"));
  CHECK(contains(crashed.output, "cannot start"));
  CHECK(contains(crashed.output, fmt::format("v{} is still live", live)));
  CHECK(server.get("shop").body == "v10 swarm\n");
  CHECK(services(dockerd).size() == 1);
  server.git("shop", {"reset", "-q", "--hard", "HEAD~1"});
  // One whose web tasks run but never pass the app's declared check.
  server.write(
      "shop", "app.json",
      R"({"healthchecks": {"web": [{"type": "startup", "path": "/", "content": "never"}]}})");
  server.commit("shop", "a check it fails");
  auto unhealthy = server.push("shop");
  INFO(unhealthy.output);
  CHECK_FALSE(unhealthy.ok());
  CHECK(contains(unhealthy.output, "did not all pass their health check within 15s"));
  CHECK(contains(unhealthy.output, fmt::format("v{} is still live", live)));
  CHECK(server.get("shop").body == "v10 swarm\n");
  CHECK(services(dockerd).size() == 1);
  server.git("shop", {"reset", "-q", "--hard", "HEAD~1"});

  // A rollback runs the very image and secret of the release it names.
  auto rolled =
      server.slipway({"releases:rollback", "-a", "shop", fmt::format("v{}", config_version)});
  INFO(rolled.output);
  REQUIRE(rolled.ok());
  CHECK(server.serves("shop", "v0 swarm"));
  int rollback = live_version(server);
  CHECK(rollback > live);
  auto service = services(dockerd)[fmt::format("shop-web-v{}", rollback)];
  std::string image = service["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"];
  CHECK(image.ends_with(tag_digest(registry, fmt::format("v{}", config_version))));
  CHECK(secret_of(rollback) == config_secret);

  // A one-off task, with the release's config.
  auto ran = server.slipway({"run", "-a", "shop", "--", "echo one-off $STAGE_NAME; exit 3"});
  CHECK(ran.code == 3);
  CHECK(contains(ran.output, "one-off swarm"));

  // A task's container killed: Swarm replaces it, the router follows its new port, the
  // other one serves meanwhile, and the crash is an event.
  auto web1 = [&] {
    for (const auto& process : ps(server)) {
      if (process["name"] == "web.1") {
        return process;
      }
    }
    return json();
  };
  int old_port = web1()["port"];
  // Its container: the task's name is SERVICE.SLOT.TASK_ID.
  auto containers = dockerd.docker(
      {"ps", "--filter", fmt::format("label=com.docker.swarm.service.name=shop-web-v{}", rollback),
       "--format", "{{.ID}} {{.Label \"com.docker.swarm.task.name\"}}"});
  INFO(containers.output);
  std::string container;
  std::istringstream lines(containers.output);
  for (std::string line; std::getline(lines, line);) {
    if (contains(line, fmt::format(" shop-web-v{}.1.", rollback))) {
      container = line.substr(0, line.find(' '));
    }
  }
  REQUIRE_FALSE(container.empty());
  REQUIRE(dockerd.docker({"kill", container}).ok());
  CHECK(wait_until(
      [&] {
        auto process = web1();
        return process.is_object() && process["state"] == "up" && process["port"] != old_port;
      },
      60s));
  std::string events;
  wait_until(
      [&] {
        events = server.slipway({"events", "-a", "shop", "-n", "30"}).output;
        return contains(events, "dyno.crashed");
      },
      20s);
  {
    INFO(events);
    CHECK(contains(events, "dyno.crashed"));
  }
  CHECK(wait_until([&] { return server.get("shop").body == "v0 swarm\n"; }, 20s));

  // kill -9: the tasks keep running and answering; the next daemon adopts them as they are.
  REQUIRE(web_up(server, 2, rollback));
  auto tasks_before = ps(server);
  std::set<std::string> ids_before;
  for (const auto& task : dockerd.api(
           "/tasks?filters=" + std::string("%7B%22desired-state%22%3A%5B%22running%22%5D%7D"))) {
    ids_before.insert(task["ID"].get<std::string>());
  }
  server.daemon.kill();
  for (const auto& task : tasks_before) {
    auto answer = http_get(task["port"].get<int>(), "/", 5s);
    CHECK(answer.body == "v0 swarm\n");
  }
  server.daemon.start();
  CHECK(server.serves("shop", "v0 swarm"));
  std::set<std::string> ids_after;
  for (const auto& task : dockerd.api(
           "/tasks?filters=" + std::string("%7B%22desired-state%22%3A%5B%22running%22%5D%7D"))) {
    ids_after.insert(task["ID"].get<std::string>());
  }
  CHECK(ids_after == ids_before);
  CHECK(web_up(server, 2, rollback));
}

} // namespace slipway::test

namespace slipway::test {

TEST_CASE("scheduler=swarm is refused without a registry or with an engine slipway does not know, "
          "and a swarm app's push without a daemon is refused with the live release kept",
          "[swarm]") {
  Server plain({.start_daemon = false});
  plain.create("shop");
  auto no_registry = plain.slipway({"apps:set", "-a", "shop", "scheduler=swarm"});
  CHECK(no_registry.code == 2);
  CHECK(contains(no_registry.output, "needs [scheduler] registry"));
  auto unknown = plain.slipway({"apps:set", "-a", "shop", "scheduler=nomad"});
  CHECK(unknown.code == 2);
  CHECK(contains(unknown.output, "unknown engine 'nomad' (expected \"local\" or \"swarm\")"));
  CHECK(contains(plain.slipway({"apps:info", "-a", "shop"}).output, "local"));

  Server server({.config = "[scheduler]\nregistry = \"127.0.0.1:1\"\n", .start_daemon = false});
  server.create("shop");
  auto set = server.slipway({"apps:set", "-a", "shop", "scheduler=swarm"});
  INFO(set.output);
  REQUIRE(set.ok());
  CHECK(contains(set.output, "scheduler=swarm"));
  auto pushed = server.push("shop");
  INFO(pushed.output);
  CHECK_FALSE(pushed.ok());
  CHECK(contains(pushed.output, "shop runs on swarm, where only the daemon starts releases"));
  CHECK(server.live_commit("shop").empty());
  // Back to the server's engine: an empty value.
  auto reset = server.slipway({"apps:set", "-a", "shop", "scheduler="});
  CHECK(contains(reset.output, "scheduler=local"));
}

} // namespace slipway::test

// The Platform API driven by the official heroku CLI (tests/tools/heroku, pinned), with
// HEROKU_HOST pointed at a test daemon: each command works, and slipway's own view agrees.
#include <condition_variable>
#include <mutex>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/e2e/api_harness.hpp"

using namespace slipway;
using namespace slipway::test;
using nlohmann::json;

namespace {

// What the CLI printed (stdout and stderr, merged), with its error lines' "›" marks gone and
// runs of white space as one space: it wraps long messages at the terminal's width.
std::string flat(const std::string& output) {
  std::string out;
  for (std::size_t i = 0; i < output.size(); ++i) {
    if (output.compare(i, 3, "\u203a") == 0) {
      i += 2;
      continue;
    }
    bool space = std::isspace(static_cast<unsigned char>(output[i]));
    if (!space || (!out.empty() && out.back() != ' ')) {
      out.push_back(space ? ' ' : output[i]);
    }
  }
  return out;
}

std::string ok_output(const ExitStatus& result) {
  INFO(result.output);
  CHECK(result.ok());
  return result.output;
}

json slipway_json(const ApiServer& api, std::vector<std::string> args) {
  args.push_back("--json");
  auto result = api.server.slipway(args);
  INFO(result.output);
  REQUIRE(result.ok());
  return json::parse(result.output);
}

} // namespace

TEST_CASE("the heroku CLI creates, shows, renames and destroys apps, and sets config and rolls "
          "back releases, as slipway sees them",
          "[api][heroku]") {
  ApiServer api;
  CHECK(contains(ok_output(api.heroku({"auth:whoami"})), "alice@localhost"));

  CHECK(contains(ok_output(api.heroku({"apps:create", "shop"})), "http://shop.localhost:"));
  CHECK(api.server.slipway({"apps:info", "-a", "shop"}).ok());
  CHECK(contains(ok_output(api.heroku({"apps"})), "shop"));

  // The app's code, pushed with git, as a user of the CLI does.
  api.server.create("site");
  REQUIRE(api.server.push("site").ok());
  REQUIRE(api.server.serves("site", "hello from site"));
  auto info = ok_output(api.heroku({"apps:info", "-a", "site"}));
  CHECK(contains(info, "=== site"));
  CHECK(contains(info, "Web URL:"));
  CHECK(contains(info, "Stack:          slipway-24"));

  CHECK(contains(ok_output(api.heroku({"config:set", "GREETING=hi there", "-a", "site"})),
                 "done, v2"));
  CHECK(slipway_json(api, {"config", "-a", "site"})["GREETING"] == "hi there");
  CHECK(contains(ok_output(api.heroku({"config", "-a", "site"})), "GREETING: hi there"));
  CHECK(ok_output(api.heroku({"config:get", "GREETING", "-a", "site"})).find("hi there\n") !=
        std::string::npos);
  CHECK(contains(ok_output(api.heroku({"config:unset", "GREETING", "-a", "site"})), "done, v3"));
  CHECK_FALSE(slipway_json(api, {"config", "-a", "site"}).contains("GREETING"));

  auto releases = ok_output(api.heroku({"releases", "-a", "site"}));
  CHECK(contains(releases, "Current: v3"));
  CHECK(contains(releases, "Unset GREETING config vars"));
  CHECK(contains(releases, "alice@localhost"));
  auto release = ok_output(api.heroku({"releases:info", "v2", "-a", "site"}));
  CHECK(contains(release, "=== Release v2"));
  CHECK(contains(release, "GREETING: hi there"));

  // `rollback` with no version goes back one release (v2), as Heroku's.
  CHECK(contains(ok_output(api.heroku({"rollback", "-a", "site"})), "Rolling back site to v2"));
  auto listed = api.server.releases("site");
  CHECK(listed.at(0)["version"] == 4);
  CHECK(listed.at(0)["description"] == "Rollback to v2");
  CHECK(slipway_json(api, {"config", "-a", "site"})["GREETING"] == "hi there");
  CHECK(contains(ok_output(api.heroku({"rollback", "v1", "-a", "site"})), "done, v5"));
  CHECK(api.server.releases("site").at(0)["description"] == "Rollback to v1");

  // Every change was recorded as the token's key.
  auto log = api.server.slipway({"logs", "-a", "site", "-n", "200"}).output;
  CHECK(contains(log, "Release v2 created by alice"));
  CHECK(contains(log, "Release v4 created by alice: Rollback to v2"));

  CHECK(contains(ok_output(api.heroku({"apps:rename", "store", "-a", "shop"})), "store"));
  CHECK(api.server.slipway({"apps:info", "-a", "store"}).ok());
  CHECK_FALSE(api.server.slipway({"apps:info", "-a", "shop"}).ok());
  CHECK(contains(ok_output(api.heroku({"apps:destroy", "-a", "store", "--confirm", "store"})),
                 "Destroying store"));
  CHECK_FALSE(api.server.slipway({"apps:info", "-a", "store"}).ok());
}

TEST_CASE("the heroku CLI lists, scales, restarts and stops processes, runs a detached one-off "
          "and reads and tails the log",
          "[api][heroku]") {
  ApiServer api;
  api.server.create("site");
  REQUIRE(api.server.push("site").ok());
  REQUIRE(api.server.serves("site", "hello from site"));

  auto ps = ok_output(api.heroku({"ps", "-a", "site"}));
  CHECK(contains(ps, "=== web"));
  CHECK(contains(ps, "web.1: up"));

  CHECK(contains(ok_output(api.heroku({"ps:scale", "web=2", "-a", "site"})),
                 "now running web at 2:"));
  CHECK(contains(ok_output(api.heroku({"ps:scale", "-a", "site"})), "web=2:"));
  auto processes = [&] { return api.server.slipway({"ps", "-a", "site"}).output; };
  for (int i = 0; i < 100 && !contains(processes(), "web.2"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(contains(processes(), "web.2"));
  CHECK(contains(ok_output(api.heroku({"ps", "-a", "site"})), "web.2: "));

  CHECK(contains(ok_output(api.heroku({"ps:restart", "-a", "site"})), "Restarting all dynos"));
  CHECK(contains(ok_output(api.heroku({"ps:restart", "web.2", "-a", "site"})), "done"));
  CHECK(contains(ok_output(api.heroku({"ps:stop", "web.2", "-a", "site"})), "done"));
  CHECK(contains(ok_output(api.heroku({"ps:restart", "-p", "web", "-a", "site"})), "done"));
  CHECK(api.server.serves("site", "hello from site"));

  auto started = ok_output(api.heroku({"run:detached", "echo", "one-off-says-hi", "-a", "site"}));
  CHECK(contains(started, "to view the output"));
  auto name = started.substr(started.find("--dyno ") + 7);
  name = name.substr(0, name.find(' '));
  REQUIRE(name.starts_with("run."));
  std::string log;
  for (int i = 0; i < 100 && !contains(log, "one-off-says-hi"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    log = api.server.slipway({"logs", "-a", "site", "--ps", name}).output;
  }
  CHECK(contains(log, "app[" + name + "]: one-off-says-hi"));
  // The one-off acted as the token's key.
  CHECK(contains(api.server.slipway({"logs", "-a", "site"}).output, "(" + name + ") by alice"));

  auto last = ok_output(api.heroku({"logs", "-n", "20", "-a", "site"}));
  CHECK(contains(last, "app[" + name + "]: one-off-says-hi"));
  auto web1 = ok_output(api.heroku({"logs", "--ps", "web.1", "-a", "site"}));
  CHECK(contains(web1, "[web.1]"));
  CHECK_FALSE(contains(web1, "[" + name + "]"));

  // --tail: the last lines first; then, once they are shown, a request and another one-off
  // come, and the tail shows them as they happen, following until it is stopped.
  std::mutex mutex;
  std::condition_variable shown;
  std::string tailed;
  ExitStatus detached;
  auto seen = [&](const std::string& text) {
    std::lock_guard lock(mutex);
    return contains(tailed, text);
  };
  Command tail{.argv = {SLIPWAY_HEROKU_CLI, "logs", "--tail", "-a", "site"},
               .env = {{"HEROKU_HOST", "http://" + api.address},
                       {"HEROKU_API_KEY", api.alice},
                       {"HEROKU_PARTICLEBOARD_URL", "http://" + api.address},
                       {"HEROKU_SKIP_NEW_VERSION_CHECK", "1"},
                       {"DISABLE_TELEMETRY", "true"},
                       {"HOME", (api.server.dir / "home").string()}},
               .on_line =
                   [&](std::string_view line) {
                     std::lock_guard lock(mutex);
                     tailed.append(line).push_back('\n');
                     shown.notify_all();
                   },
               .timeout = std::chrono::seconds(90),
               .watch = [&]() -> std::optional<std::string> {
                 if (seen("tailed-while-watching")) {
                   return "the tail showed the new one-off";
                 }
                 return std::nullopt;
               },
               .watch_interval = std::chrono::milliseconds(100)};
  std::thread during([&] {
    {
      std::unique_lock lock(mutex);
      if (!shown.wait_for(lock, std::chrono::seconds(60),
                          [&] { return contains(tailed, "one-off-says-hi"); })) {
        return; // the history never came: the checks below say so
      }
    }
    api.server.get("site");
    detached =
        api.server.slipway({"run:detached", "-a", "site", "--", "echo", "tailed-while-watching"});
  });
  auto followed = run(tail);
  during.join();
  REQUIRE(followed);
  INFO(tailed);
  INFO(detached.output);
  INFO(api.server.slipway({"logs", "-a", "site", "-n", "30"}).output);
  CHECK_FALSE(followed->timed_out);
  CHECK(followed->stopped_because == "the tail showed the new one-off"); // it followed
  CHECK(contains(tailed, "app[" + name + "]: one-off-says-hi"));         // the last lines first
  CHECK(contains(tailed, "tailed-while-watching"));                      // then what came
}

TEST_CASE("the heroku CLI manages domains, collaborators and maintenance mode", "[api][heroku]") {
  ApiServer api;
  api.server.create("site");
  REQUIRE(api.server.push("site").ok());
  REQUIRE(api.server.serves("site", "hello from site"));

  CHECK(contains(ok_output(api.heroku({"domains", "-a", "site"})), "site.localhost"));
  CHECK(contains(ok_output(api.heroku({"domains:add", "www.example.com", "-a", "site"})),
                 "DNS Target site.localhost"));
  CHECK(api.server.host_serves("www.example.com", "hello from site"));
  CHECK(contains(ok_output(api.heroku({"domains", "-a", "site"})), "www.example.com"));
  CHECK(
      contains(ok_output(api.heroku({"domains:remove", "www.example.com", "-a", "site"})), "done"));
  CHECK_FALSE(contains(api.server.slipway({"domains", "-a", "site"}).output, "www.example.com"));

  CHECK(contains(ok_output(api.heroku({"access", "-a", "site"})), "alice@localhost"));
  CHECK(contains(ok_output(api.heroku({"access:add", "bob@example.com", "-a", "site"})), "done"));
  CHECK(contains(api.server.slipway({"access", "-a", "site"}).output, "bob"));
  CHECK(contains(ok_output(api.heroku({"access", "-a", "site"}, api.bob)), "bob@example.com"));
  CHECK(
      contains(ok_output(api.heroku({"access:remove", "bob@example.com", "-a", "site"})), "done"));
  CHECK_FALSE(contains(api.server.slipway({"access", "-a", "site"}).output, "bob"));

  CHECK(contains(ok_output(api.heroku({"maintenance:on", "-a", "site"})), "done"));
  CHECK(ok_output(api.heroku({"maintenance", "-a", "site"})).find("on\n") != std::string::npos);
  CHECK(api.server.get("site").status == 503);
  CHECK(contains(ok_output(api.heroku({"maintenance:off", "-a", "site"})), "done"));
  CHECK(api.server.serves("site", "hello from site"));
}

TEST_CASE("a bad token takes the heroku CLI's invalid-credentials path, and a collaborator "
          "is refused another app for the reason ssh gives",
          "[api][heroku]") {
  ApiServer api;
  api.server.create("site");

  auto refused = api.heroku({"apps"}, "slipway_" + std::string(64, '0'));
  INFO(refused.output);
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "The token provided to HEROKU_API_KEY is invalid"));

  auto forbidden = api.heroku({"config", "-a", "site"}, api.bob);
  auto over_ssh = api.as_key("bob", {"config", "-a", "site"});
  INFO(forbidden.output);
  INFO(over_ssh.output);
  CHECK_FALSE(forbidden.ok());
  CHECK_FALSE(over_ssh.ok());
  CHECK(contains(over_ssh.output, "key 'bob' has no access to app 'site'"));
  CHECK(contains(forbidden.output, "key 'bob' has no access to app 'site'"));
  CHECK(contains(forbidden.output, "forbidden"));

  // `heroku run` (attached) would need Heroku's rendezvous service: it says what to use.
  auto attached = api.heroku({"run", "ls", "-a", "site"});
  INFO(attached.output);
  CHECK_FALSE(attached.ok());
  CHECK(contains(flat(attached.output), "heroku run:detached -a site -- COMMAND"));
  CHECK(contains(flat(attached.output), "ssh git@SERVER run -a site -- COMMAND"));
}

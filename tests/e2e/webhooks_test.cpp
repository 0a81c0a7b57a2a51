// App webhooks end to end: a real daemon delivering the event stream to local receivers
// (a small python server recording what it gets, failing or hanging on request), signed
// as Heroku signs them, retried, and persisted across a killed daemon.
#include <csignal>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/hash.hpp"
#include "common/subprocess.hpp"
#include "tests/support/server.hpp"

namespace slipway::test {

namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

const std::string k_config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"3s\"\n"
                             "[webhooks]\nallow_private = true\n";

// Records every POST as a JSON line; /flaky answers 500 to its first two requests, /hang
// holds its first one for 15 s (past the sender's 10 s timeout), the rest answer 200.
class Receiver {
 public:
  explicit Receiver(int port = 0) : port(port == 0 ? free_port() : port) {
    write_file(dir / "receiver.py", R"(import http.server, json, sys, time, threading
log = open(sys.argv[2], "a")
seen = {}
lock = threading.Lock()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        with lock:
            seen[self.path] = seen.get(self.path, 0) + 1
            count = seen[self.path]
        if self.path == "/hang" and count == 1:
            time.sleep(15)
        code = 500 if self.path == "/flaky" and count <= 2 else 200
        with lock:
            log.write(json.dumps({"path": self.path, "code": code, "body": body,
                                  "headers": {k.lower(): v for k, v in self.headers.items()}}) + "\n")
            log.flush()
        self.send_response(code)
        self.end_headers()
    def log_message(self, *args):
        pass
class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
)");
    start();
  }
  ~Receiver() { stop(); }

  void start() {
    auto spawned = spawn({.argv = {"python3", (dir / "receiver.py").string(), std::to_string(port),
                                   (dir / "log.jsonl").string()}},
                         {.death_signal = SIGKILL});
    REQUIRE(spawned);
    ::close(spawned->output_fd);
    ::close(spawned->pidfd);
    m_pid = spawned->pid;
    for (int i = 0; i < 100 && http_request(port, "x").body.starts_with("connect:"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  void stop() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
      m_pid = -1;
    }
  }

  std::vector<Json> received(const std::string& path = "") const {
    std::vector<Json> out;
    if (!fs::exists(dir / "log.jsonl")) {
      return out;
    }
    std::istringstream lines(read_text(dir / "log.jsonl"));
    for (std::string line; std::getline(lines, line);) {
      auto json = Json::parse(line, nullptr, false);
      if (json.is_object() && (path.empty() || json.value("path", "") == path)) {
        out.push_back(std::move(json));
      }
    }
    return out;
  }

  // Waits until `match` holds for the requests received at `path`.
  bool await(const std::string& path, const std::function<bool(const std::vector<Json>&)>& match,
             std::chrono::seconds wait = std::chrono::seconds(30)) const {
    auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      if (match(received(path))) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return match(received(path));
  }

  std::string url(const std::string& path) const {
    return fmt::format("http://127.0.0.1:{}{}", port, path);
  }

  TempDir dir;
  int port;

 private:
  int m_pid = -1;
};

std::string add_webhook(const Server& server, const std::string& app, const std::string& url,
                        const std::string& include, const std::string& level,
                        std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"webhooks:add", "-a",    app,  "-u",  url,
                                   "-i",           include, "-l", level, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto added = server.slipway(args);
  INFO(added.output);
  REQUIRE(added.ok());
  return Json::parse(added.output.substr(added.output.find('{'))).at("id");
}

Json deliveries(const Server& server, const std::string& app) {
  auto listed = server.slipway({"webhooks:deliveries", "-a", app, "--json"});
  REQUIRE(listed.ok());
  return Json::parse(listed.output.substr(listed.output.find('[')));
}

} // namespace

TEST_CASE("webhooks get every entity signed with their secret, a failing receiver gets it on "
          "attempt 3, and a hanging one is timed out and retried",
          "[webhooks]") {
  Server server({.config = k_config});
  Receiver receiver;
  server.create("shop");
  std::string all = "api:app,api:build,api:release,api:formation,api:domain,dyno";
  add_webhook(server, "shop", receiver.url("/ok"), all, "sync", {"-s", "s3cret"});
  add_webhook(server, "shop", receiver.url("/flaky"), "api:domain", "sync", {"-s", "s3cret"});
  add_webhook(server, "shop", receiver.url("/hang"), "api:formation", "sync", {"-s", "s3cret"});

  REQUIRE(server.push("shop").ok());
  REQUIRE(server.slipway({"config:set", "-a", "shop", "GREETING=hi"}).ok());
  REQUIRE(server.slipway({"ps:scale", "-a", "shop", "web=2"}).ok());
  REQUIRE(server.slipway({"domains:add", "-a", "shop", "www.shop.example"}).ok());
  REQUIRE(server.slipway({"apps:set", "-a", "shop", "deploy_branch=main"}).ok());

  auto resources = [&](const std::vector<Json>& got) {
    std::set<std::string> seen;
    for (const auto& request : got) {
      seen.insert(Json::parse(request.value("body", "{}")).value("resource", ""));
    }
    return seen;
  };
  CHECK(receiver.await("/ok", [&](const std::vector<Json>& got) {
    auto seen = resources(got);
    INFO(fmt::format("{}", fmt::join(seen, ",")));
    return seen.contains("app") && seen.contains("build") && seen.contains("release") &&
           seen.contains("formation") && seen.contains("domain") && seen.contains("dyno");
  }));
  for (const auto& request : receiver.received("/ok")) {
    std::string body = request.value("body", "");
    CHECK(request["headers"].value("heroku-webhook-hmac-sha256", "") ==
          base64(hmac_sha256("s3cret", body)));
    auto payload = Json::parse(body);
    CHECK(payload["data"]["app"]["name"] == "shop");
    CHECK(payload["webhook_metadata"]["attempt"]["id"].is_string());
    CHECK((payload["action"] == "create" || payload["action"] == "update" ||
           payload["action"] == "destroy"));
  }

  // /flaky: 500, 500, then 200: delivered on attempt 3, once.
  CHECK(receiver.await("/flaky", [](const std::vector<Json>& got) {
    return std::ranges::count_if(got, [](const Json& r) { return r["code"] == 200; }) >= 1;
  }));
  // /hang: the first attempt timed out, the next was answered.
  CHECK(receiver.await(
      "/hang",
      [](const std::vector<Json>& got) {
        return std::ranges::count_if(got, [](const Json& r) { return r["code"] == 200; }) >= 2;
      },
      std::chrono::seconds(40)));
  bool flaky_on_third = false;
  bool hang_retried = false;
  for (int i = 0; i < 50 && !(flaky_on_third && hang_retried); ++i) {
    for (const auto& delivery : deliveries(server, "shop")) {
      if (delivery["status"] == "succeeded" && delivery["attempts"] == 3) {
        flaky_on_third = true;
      }
      if (delivery["entity"] == "api:formation" && delivery["status"] == "succeeded" &&
          delivery["attempts"].get<int>() >= 2) {
        hang_retried = true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK(flaky_on_third);
  CHECK(hang_retried);
}

TEST_CASE("deliveries queued when the daemon is killed are all delivered after it restarts",
          "[webhooks]") {
  Server server({.config = k_config});
  Receiver receiver;
  server.create("shop");
  REQUIRE(server.push("shop").ok());
  receiver.stop(); // nobody answers: the deliveries wait to be retried
  add_webhook(server, "shop", receiver.url("/ok"), "api:release", "sync");
  for (int i = 0; i < 10; ++i) {
    REQUIRE(server.slipway({"config:set", "-a", "shop", fmt::format("N={}", i)}).ok());
  }
  bool queued = false;
  for (int i = 0; i < 100 && !queued; ++i) {
    auto found = deliveries(server, "shop");
    queued = found.size() >= 10 && std::ranges::all_of(found, [](const Json& d) {
               return d["status"] == "retrying" || d["status"] == "pending";
             });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(queued);
  server.daemon.kill();
  receiver.start();
  server.daemon.start();
  auto versions = [&](const std::vector<Json>& got) {
    std::set<int> seen;
    for (const auto& request : got) {
      seen.insert(Json::parse(request.value("body", "{}"))["data"].value("version", 0));
    }
    return seen.size();
  };
  CHECK(receiver.await("/ok", [&](const std::vector<Json>& got) { return versions(got) >= 10; }));
  // The sender records each success once the receiver has answered.
  bool all_succeeded = false;
  for (int i = 0; i < 50 && !all_succeeded; ++i) {
    auto found = deliveries(server, "shop");
    all_succeeded = found.size() >= 10 && std::ranges::all_of(found, [](const Json& d) {
                      return d["status"] == "succeeded";
                    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(all_succeeded);
}

TEST_CASE("a webhook is told only of events after it was made, however far behind its sender is",
          "[webhooks]") {
  Server server({.config = k_config});
  Receiver receiver;
  server.create("shop");
  REQUIRE(server.push("shop").ok());
  server.daemon.kill(); // the sender falls behind the stream
  REQUIRE(server.slipway({"config:set", "-a", "shop", "BEFORE=1"}).ok());
  add_webhook(server, "shop", receiver.url("/ok"), "api:release", "sync");
  REQUIRE(server.slipway({"config:set", "-a", "shop", "AFTER=1"}).ok());
  auto releases = server.slipway({"releases", "-a", "shop", "--json"});
  REQUIRE(releases.ok());
  int newest =
      Json::parse(releases.output.substr(releases.output.find('['))).at(0).at("version").get<int>();
  server.daemon.start();
  // The sender reads the stream in order: once the newest release is delivered, BEFORE's
  // would have been tried first.
  CHECK(receiver.await("/ok", [&](const std::vector<Json>& got) {
    return std::ranges::any_of(got, [&](const Json& request) {
      return Json::parse(request.value("body", "{}"))["data"].value("version", 0) == newest;
    });
  }));
  for (const auto& request : receiver.received("/ok")) {
    CHECK(Json::parse(request.value("body", "{}"))["data"].value("version", 0) == newest);
  }
  CHECK(deliveries(server, "shop").size() == 1);
}

TEST_CASE("Slack, Discord and Mattermost receivers get their own payloads, and a receiver on "
          "the server's network is refused unless allowed",
          "[webhooks]") {
  Server server({.config = k_config});
  Receiver receiver;
  server.create("shop");
  add_webhook(server, "shop", receiver.url("/slack"), "api:release", "notify",
              {"--format", "slack"});
  add_webhook(server, "shop", receiver.url("/discord"), "api:release", "notify",
              {"--format", "discord"});
  add_webhook(server, "shop", receiver.url("/mattermost"), "api:release", "notify",
              {"--format", "mattermost"});
  REQUIRE(server.push("shop").ok());
  for (const std::string path : {"/slack", "/mattermost"}) {
    CHECK(receiver.await(path, [](const std::vector<Json>& got) {
      return std::ranges::any_of(got, [](const Json& r) {
        auto body = Json::parse(r.value("body", "{}"));
        return contains(body.value("text", ""), "deployed shop v1") &&
               body["blocks"][0]["text"]["type"] == "mrkdwn";
      });
    }));
  }
  CHECK(receiver.await("/discord", [](const std::vector<Json>& got) {
    return std::ranges::any_of(got, [](const Json& r) {
      auto body = Json::parse(r.value("body", "{}"));
      return contains(body.value("content", ""), "deployed shop v1") &&
             body["embeds"][0]["url"].get<std::string>().starts_with("http://shop.localhost");
    });
  }));

  Server strict;
  strict.create("app");
  auto refused = strict.slipway({"webhooks:add", "-a", "app", "-u", receiver.url("/ok"), "-i",
                                 "api:release", "-l", "notify"});
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "allow_private"));
  for (const std::string url :
       {"http://user:pw@example.com/x", "ftp://example.com/x", "file:///etc/passwd"}) {
    auto bad = strict.slipway(
        {"webhooks:add", "-a", "app", "-u", url, "-i", "api:release", "-l", "notify"});
    CHECK_FALSE(bad.ok());
  }
  auto bad_entity = strict.slipway({"webhooks:add", "-a", "app", "-u", "https://example.com/x",
                                    "-i", "api:nope", "-l", "notify"});
  CHECK(contains(bad_entity.output, "unknown entity 'api:nope'"));
}

} // namespace slipway::test

namespace slipway::test {

TEST_CASE("a pipeline's webhook is told of the events of every app of the pipeline", "[webhooks]") {
  Server server({.config = k_config});
  Receiver receiver;
  server.create("shop-staging");
  REQUIRE(server.slipway({"pipelines:create", "shop", "-a", "shop-staging", "-s", "staging"}).ok());
  auto added = server.slipway({"webhooks:add", "-p", "shop", "-u", receiver.url("/pipeline"), "-i",
                               "api:release", "-l", "sync", "-s", "pipe-secret"});
  INFO(added.output);
  REQUIRE(added.ok());
  CHECK(contains(server.slipway({"webhooks", "-p", "shop"}).output, receiver.url("/pipeline")));
  CHECK(server.slipway({"webhooks", "-a", "shop-staging", "--json"}).output.find("/pipeline") ==
        std::string::npos);
  REQUIRE(server.push("shop-staging").ok());
  CHECK(receiver.await("/pipeline", [](const std::vector<Json>& got) {
    return std::ranges::any_of(got, [](const Json& r) {
      auto body = Json::parse(r.value("body", "{}"));
      return body["data"]["app"]["name"] == "shop-staging" && body["resource"] == "release" &&
             r["headers"].value("heroku-webhook-hmac-sha256", "") ==
                 base64(hmac_sha256("pipe-secret", r.value("body", "")));
    });
  }));
  auto listed = server.slipway({"webhooks:deliveries", "-p", "shop", "--json"});
  CHECK(contains(listed.output, "api:release"));
  auto events = server.slipway({"webhooks:events", "-p", "shop", "--json"});
  CHECK(contains(events.output, "\"resource\": \"release\""));
  CHECK_FALSE(server.slipway({"webhooks"}).ok()); // whose?
}

TEST_CASE("a receiver that failed a whole retry window gets the next deliveries one try each, "
          "until it answers again",
          "[webhooks]") {
  Server server({.config = k_config + "retry_for = \"2s\"\n"});
  Receiver receiver;
  server.create("shop");
  REQUIRE(server.push("shop").ok());
  REQUIRE(server.settled("shop")); // its release's last event is in before the webhook
  receiver.stop();
  add_webhook(server, "shop", receiver.url("/ok"), "api:release", "sync");
  // The newest delivery's status once `count` deliveries are on record.
  auto await_newest = [&](std::size_t count, const std::string& status) {
    for (int i = 0; i < 150; ++i) {
      auto found = deliveries(server, "shop");
      if (found.size() >= count && found.back()["status"] == status) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  REQUIRE(server.slipway({"config:set", "-a", "shop", "A=1"}).ok());
  CHECK(await_newest(1, "failed"));
  REQUIRE(server.slipway({"config:set", "-a", "shop", "B=1"}).ok());
  CHECK(await_newest(2, "skipped"));
  CHECK(deliveries(server, "shop").back()["attempts"] == 1);
  receiver.start();
  REQUIRE(server.slipway({"config:set", "-a", "shop", "C=1"}).ok());
  CHECK(await_newest(3, "succeeded"));
}

} // namespace slipway::test

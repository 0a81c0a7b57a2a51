// The Platform API's protocol and its defences, request by request with curl: tokens (bad,
// revoked, expired, of a removed key, never logged), rights as ssh has them, Range pagination,
// Request-Id and the rate limit, signed stream URLs, and hostile requests: oversized headers
// and bodies, slow clients, too many connections, malformed paths.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/e2e/api_harness.hpp"

using namespace slipway;
using namespace slipway::test;
using nlohmann::json;

namespace {

// A raw connection to the API, for what curl will not send.
int connect_to(const std::string& address) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{.sin_family = AF_INET};
  to.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(address.find(':') + 1))));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0);
  return fd;
}

// Everything the server sends until it closes the connection (or `wait` passes).
std::string read_all(int fd, std::chrono::seconds wait = std::chrono::seconds(10)) {
  timeval timeout{.tv_sec = wait.count(), .tv_usec = 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string out;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return out;
}

} // namespace

TEST_CASE("API tokens: only a live token of an existing key gets in, and no token reaches a log",
          "[api]") {
  ApiServer api;
  api.server.create("site");

  auto account = api.request("GET", "/account", api.alice);
  REQUIRE(account.status == 200);
  CHECK(account.json()["email"] == "alice@localhost");
  CHECK(api.request("GET", "/account", api.bob).json()["email"] == "bob@example.com");
  CHECK_FALSE(api.request("GET", "/account", api.bob).header("request-id").empty());

  // No token, a wrong one, a malformed header: 401 with Heroku's error body.
  for (const auto& token : {std::string(), std::string("slipway_") + std::string(64, 'f'),
                            api.alice.substr(0, api.alice.size() - 1)}) {
    auto refused = api.request("GET", "/apps", token);
    CHECK(refused.status == 401);
    CHECK(refused.json()["id"] == "unauthorized");
    CHECK(refused.json()["message"] == "Invalid credentials provided.");
  }
  // Basic auth with the token as the password works as the heroku CLI's netrc does.
  CHECK(run_program({"curl", "-s", "-f", "-u", "alice@localhost:" + api.alice,
                     "http://" + api.address + "/account"})
            .ok());

  // Revoked: by the key itself over ssh, listed first.
  auto listed = api.as_key("alice", {"authorizations", "--json"});
  REQUIRE(listed.ok());
  auto mine = json::array();
  for (const auto& authorization : json::parse(listed.output)) {
    if (authorization["key"] == "alice") {
      mine.push_back(authorization); // (an admin sees every key's)
    }
  }
  REQUIRE(mine.size() == 1);
  CHECK_FALSE(api.as_key("bob", {"authorizations:revoke", mine[0]["id"]}).ok());
  REQUIRE(api.as_key("alice", {"authorizations:revoke", mine[0]["id"]}).ok());
  CHECK(api.request("GET", "/account", api.alice).status == 401);

  // Made over ssh: printed once; the file keeps only its hash, readable by slipway alone.
  auto made = api.as_key("bob", {"authorizations:create", "-d", "laptop", "-S"});
  REQUIRE(made.ok());
  std::string token = made.output.substr(0, made.output.find('\n'));
  CHECK(api.request("GET", "/account", token).status == 200);
  CHECK_FALSE(api.as_key("bob", {"authorizations:create", "--key", "alice"}).ok());
  auto stored = read_text(api.server.root / "keys" / "authorizations.toml");
  CHECK_FALSE(contains(stored, token));
  CHECK_FALSE(contains(stored, token.substr(8)));
  auto mode = fs::status(api.server.root / "keys" / "authorizations.toml").permissions();
  CHECK((mode & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

  // Expired: a token made to last one second.
  auto brief = api.token("bob", {"--expires-in", "1"});
  CHECK(api.request("GET", "/account", brief).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  CHECK(api.request("GET", "/account", brief).status == 401);

  // A removed key's tokens die with it, and a key added again by the name does not get them.
  REQUIRE(api.server.slipway({"keys:remove", "bob"}).ok());
  CHECK(api.request("GET", "/account", token).status == 401);
  api.add_key("bob", {});
  CHECK(api.request("GET", "/account", token).status == 401);

  // 1,000 requests with wrong tokens: refused, and nothing but the refusals is logged.
  std::vector<std::string> argv = {
      "curl", "-s", "-w", "%{http_code}\\n", "-H", "Authorization: Bearer slipway_guess-" + token};
  for (int i = 0; i < 1000; ++i) {
    argv.insert(argv.end(),
                {"-o", "/dev/null", "http://" + api.address + "/apps/site/config-vars"});
  }
  auto flood = run_program(argv);
  REQUIRE(flood.ok());
  CHECK(std::count(flood.output.begin(), flood.output.end(), '\n') == 1000);
  CHECK(flood.output.find_first_not_of("401\n") == std::string::npos);
  auto daemon_log = api.server.daemon.log();
  CHECK_FALSE(contains(daemon_log, api.alice));
  CHECK_FALSE(contains(daemon_log, token));
  CHECK_FALSE(contains(daemon_log, token.substr(8)));
  CHECK_FALSE(contains(daemon_log, "guess"));
  CHECK(contains(daemon_log, "- GET /apps/site/config-vars 401"));
  for (const auto& entry : fs::recursive_directory_iterator(api.server.root)) {
    if (entry.is_regular_file() && entry.path().filename() != "authorizations.toml") {
      auto text = read_text(entry.path());
      INFO(entry.path());
      CHECK_FALSE(contains(text, token.substr(8)));
      CHECK_FALSE(contains(text, api.alice.substr(8)));
    }
  }
}

TEST_CASE("the API gives a collaborator its apps only, with the reasons ssh gives", "[api]") {
  ApiServer api;
  api.server.create("mine");
  api.server.create("theirs");
  REQUIRE(api.server.slipway({"access:add", "-a", "mine", "bob"}).ok());

  auto apps = api.request("GET", "/apps", api.bob).json();
  REQUIRE(apps.size() == 1);
  CHECK(apps[0]["name"] == "mine");
  CHECK(api.request("GET", "/apps", api.alice).json().size() == 2);

  auto over_ssh = api.as_key("bob", {"config:set", "-a", "theirs", "A=1"});
  for (const auto& [method, path, body] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/apps/theirs", ""},
           {"PATCH", "/apps/theirs/config-vars", R"({"A":"1"})"},
           {"GET", "/apps/theirs/releases", ""},
           {"DELETE", "/apps/theirs/dynos", ""},
           {"POST", "/apps/theirs/log-sessions", "{}"},
           {"GET", "/apps/nosuchapp", ""}}) {
    INFO(method << " " << path);
    auto refused = api.request(method, path, api.bob, body);
    CHECK(refused.status == 403);
    CHECK(refused.json()["id"] == "forbidden");
    CHECK(contains(over_ssh.output, refused.json()["message"].get<std::string>().substr(0, 20)));
  }
  // An admin's operation: the same refusal as over ssh, word for word.
  auto create = api.request("POST", "/apps", api.bob, R"({"name":"newapp"})");
  auto create_ssh = api.as_key("bob", {"apps:create", "newapp"});
  CHECK(create.status == 403);
  CHECK(contains(create_ssh.output, create.json()["message"].get<std::string>()));
  CHECK_FALSE(fs::exists(api.server.app_dir("newapp")));

  // An app's id names it as its name does; another's id is not found.
  auto id = api.request("GET", "/apps/mine", api.bob).json()["id"].get<std::string>();
  CHECK(api.request("GET", "/apps/" + id, api.bob).json()["name"] == "mine");
  auto their_id = api.request("GET", "/apps/theirs", api.alice).json()["id"].get<std::string>();
  CHECK(api.request("GET", "/apps/" + their_id, api.bob).status == 404);
  CHECK(api.request("GET", "/apps/" + their_id, api.alice).json()["name"] == "theirs");
  // Stable across a restart of the daemon.
  api.server.daemon.stop();
  api.server.daemon.start();
  api.find_address();
  CHECK(api.request("GET", "/apps/mine", api.alice).json()["id"] == id);
}

TEST_CASE("the API pages with Range and Next-Range, numbers its requests and errors as "
          "Heroku does",
          "[api]") {
  ApiServer api("[api]\nrate_limit = 60\n");
  api.server.create("site");
  for (int i = 1; i <= 12; ++i) {
    auto changed = api.request("PATCH", "/apps/site/config-vars", api.alice,
                               fmt::format(R"({{"N":"{}"}})", i));
    REQUIRE(changed.status == 200);
    CHECK(changed.json()["N"] == std::to_string(i));
  }
  // Numbers and booleans become strings; null unsets; one release per PATCH.
  auto mixed = api.request("PATCH", "/apps/site/config-vars", api.alice,
                           R"({"A": 2, "B": true, "N": null})");
  CHECK(mixed.json() == json{{"A", "2"}, {"B", "true"}});
  CHECK(api.server.releases("site").size() == 13);

  auto first = api.request("GET", "/apps/site/releases", api.alice, "",
                           {"Range: version ..; max=5, order=desc"});
  CHECK(first.status == 206);
  auto page = first.json();
  REQUIRE(page.size() == 5);
  CHECK(page[0]["version"] == 13);
  CHECK(page[0]["current"] == true);
  CHECK(page[4]["version"] == 9);
  CHECK(first.header("next-range") == "version ]9..; max=5, order=desc");
  auto second = api.request("GET", "/apps/site/releases", api.alice, "",
                            {"Range: " + first.header("next-range")});
  CHECK(second.status == 206);
  CHECK(second.json()[0]["version"] == 8);
  auto last = api.request("GET", "/apps/site/releases", api.alice, "",
                          {"Range: version ]3..; max=5, order=desc"});
  CHECK(last.status == 200); // the rest fits: no Next-Range, or the CLI would ask forever
  CHECK(last.json().size() == 2);
  CHECK(last.header("next-range").empty());
  auto ascending = api.request("GET", "/apps/site/releases", api.alice).json();
  CHECK(ascending.size() == 13);
  CHECK(ascending[0]["version"] == 1);

  // A release by its id, as rollback names it.
  auto v2 = api.request("GET", "/apps/site/releases/2", api.alice).json();
  CHECK(api.request("GET", "/apps/site/releases/" + v2["id"].get<std::string>(), api.alice)
            .json()["version"] == 2);

  for (const auto& range : {"version ..; max=0", "version ..; max=abc", "colour ..",
                            "version ..; order=sideways", "version a..b"}) {
    INFO(range);
    auto refused =
        api.request("GET", "/apps/site/releases", api.alice, "", {std::string("Range: ") + range});
    CHECK(refused.status == 422);
    CHECK(refused.json()["id"] == "invalid_params");
  }
  CHECK(api.request("GET", "/apps/site/nothing-here", api.alice).status == 404);
  CHECK(api.request("PUT", "/apps/site", api.alice).status == 405);
  CHECK(api.request("GET", "/apps/site/releases/99", api.alice).json()["id"] == "not_found");
  CHECK(api.request("POST", "/apps", api.alice, R"({"name":"site"})").status == 409);
  CHECK(api.request("POST", "/apps", api.alice, R"({"name":"Not_A_Name"})").status == 422);
  CHECK(api.request("PATCH", "/apps/site/config-vars", api.alice, "{not json").status == 422);
  CHECK(api.request("PATCH", "/apps/site/config-vars", api.alice, R"(["a"])").status == 422);
  CHECK(api.request("PATCH", "/apps/site/formation", api.alice,
                    R"({"updates":[{"type":"web","quantity":"-1"}]})")
            .status == 422);
  CHECK(api.request("GET", "/apps/site", api.alice, "",
                    {"Accept: application/vnd.heroku+json; version=2"})
            .status == 400);

  // The rate limit: 60 requests an hour for this server; each answer says what is left.
  int remaining = std::stoi(api.request("GET", "/account", api.bob).header("ratelimit-remaining"));
  CHECK(remaining == 59);
  for (int i = 0; i < 70 && remaining > 0; ++i) {
    remaining = std::stoi(api.request("GET", "/account", api.bob).header("ratelimit-remaining"));
  }
  auto limited = api.request("GET", "/account", api.bob);
  CHECK(limited.status == 429);
  CHECK(limited.json()["id"] == "rate_limit");
  CHECK(api.request("GET", "/account", api.alice).status == 200); // each key has its own
}

TEST_CASE("streams need their signature: log sessions and build output", "[api]") {
  ApiServer api;
  api.server.create("site");
  REQUIRE(api.server.push("site").ok());

  auto session = api.request("POST", "/apps/site/log-sessions", api.alice,
                             R"({"lines": 5, "tail": false, "source": "slipway"})");
  REQUIRE(session.status == 201);
  std::string url = session.json()["logplex_url"];
  REQUIRE(url.starts_with("http://" + api.address + "/streams/logs/site?"));
  auto streamed = run_program({"curl", "-s", "-f", url});
  REQUIRE(streamed.ok());
  CHECK(contains(streamed.output, "data: "));
  CHECK(contains(streamed.output, "slipway["));
  CHECK(std::count(streamed.output.begin(), streamed.output.end(), '\n') == 10);

  // Tampered with: another app, more lines, no signature.
  std::string path = url.substr(url.find("/streams"));
  for (const auto& forged : {path.substr(0, path.find("&sig=")),
                             std::string(path).replace(path.find("lines=5"), 7, "lines=9"),
                             std::string(path).replace(path.find("/site?"), 6, "/othr?")}) {
    INFO(forged);
    CHECK(api.request("GET", forged, "").status == 401);
  }
  CHECK(api.request("POST", "/apps/site/log-sessions", api.alice, R"({"dyno": "../etc"})").status ==
        422);
  CHECK(api.request("POST", "/apps/site/log-sessions", api.alice, R"({"lines": "all"})").status ==
        422);

  // Formation changes as the heroku CLI sends them: a quantity as a string, relative ("+1"),
  // the size alone (`heroku ps:type SIZE`: the one size there is, so nothing changes).
  auto formation = [&](const std::string& body) {
    return api.request("PATCH", "/apps/site/formation", api.alice, body);
  };
  auto size = api.request("GET", "/apps/site/formation", api.alice).json()[0]["size"];
  CHECK(formation(R"({"updates":[{"type":"web","quantity":"+1"}]})").json()[0]["quantity"] == 2);
  CHECK(formation(R"({"updates":[{"type":"web","quantity":"-1"}]})").json()[0]["quantity"] == 1);
  CHECK(formation(R"({"updates":[{"type":"web","quantity":"-5"}]})").status == 422);
  CHECK(formation(fmt::format(R"({{"updates":[{{"type":"web","size":{}}}]}})", size.dump()))
            .json()[0]["quantity"] == 1);
  CHECK(formation(R"({"updates":[{"type":"web","size":"performance-l"}]})").status == 422);
  CHECK(formation(R"({"updates":[{"type":"web"}]})").status == 422);
  CHECK(formation(R"({"updates":[{"type":"nope","quantity":1}]})").status == 422);

  // The CLI's other forms: expires_in as a string, a stack, a scope.
  auto made = api.request("POST", "/oauth/authorizations", api.alice,
                          R"({"description":"ci","expires_in":"60"})");
  CHECK(made.status == 201);
  CHECK(made.json()["access_token"]["token"].get<std::string>().starts_with("slipway_"));
  CHECK(api.request("POST", "/oauth/authorizations", api.alice, R"({"scope":["read"]})").status ==
        422);
  CHECK(api.request("PATCH", "/apps/site", api.alice, R"({"build_stack":"heroku-24"})").status ==
        422);
  CHECK(api.request("PATCH", "/apps/site", api.alice, R"({"build_stack":"slipway-24"})").status ==
        200);

  // A one-off of an app that has nothing built is refused at once, not lost in the background.
  api.server.create("empty");
  REQUIRE(api.server.slipway({"config:set", "-a", "empty", "A=1"}).ok());
  auto oneoff =
      api.request("POST", "/apps/empty/dynos", api.alice, R"({"command":"ls","attach":false})");
  CHECK(oneoff.status == 422);
  CHECK(contains(oneoff.json()["message"].get<std::string>(), "has no slug"));

  // Builds: listed with their output URL, which streams what the build printed.
  auto builds = api.request("GET", "/apps/site/builds", api.alice).json();
  REQUIRE(builds.size() == 1);
  CHECK(builds[0]["status"] == "succeeded");
  CHECK(builds[0]["release"]["version"] == 1);
  auto output = run_program({"curl", "-s", "-f", builds[0]["output_stream_url"]});
  CHECK(output.ok());
  INFO(output.output);
  CHECK(contains(output.output, "Procfile declares types"));
  CHECK(contains(output.output, "deployed (v1)"));
  CHECK(api.request("GET", "/apps/site/builds/" + builds[0]["id"].get<std::string>(), api.alice)
            .json()["number"] == 1);
}

TEST_CASE("hostile requests: oversized, slow, too many and malformed ones are cut off, and the "
          "API goes on answering",
          "[api]") {
  ApiServer api("[api]\nmax_connections = 20\n");
  api.server.create("site");

  write_file(api.server.dir / "filler", "X-Filler: " + std::string(64 * 1024, 'x') + "\n");
  auto huge_header =
      api.request("GET", "/account", api.alice, "", {"@" + (api.server.dir / "filler").string()});
  CHECK(huge_header.status == 431);
  auto huge_body = api.request("PATCH", "/apps/site/config-vars", api.alice,
                               R"({"A":")" + std::string(2 * 1024 * 1024, 'x') + R"("})");
  CHECK((huge_body.status == 413 || huge_body.status == 0)); // or cut off while sending
  CHECK(api.server.releases("site").empty());

  // Malformed paths: escapes that decode to '/' or NUL, and names that are not app names.
  for (const auto& path : {"/apps/..%2f..%2fetc", "/apps/site%00", "/apps/%zz", "/apps/..",
                           "/apps/site/domains/..%2F..%2Fkeys"}) {
    INFO(path);
    auto answer = api.request("GET", path, api.alice);
    CHECK((answer.status == 400 || answer.status == 404 || answer.status == 422));
    CHECK(answer.json().contains("id"));
  }

  // A client that sends half a request and stalls, and connections past the cap: the cap
  // refuses, and everyone else is still served.
  std::vector<int> held;
  for (int i = 0; i < 25; ++i) {
    int fd = connect_to(api.address);
    std::string partial = "GET /account HTTP/1.1\r\nHost: x\r\n";
    CHECK(send(fd, partial.data(), partial.size(), MSG_NOSIGNAL) > 0);
    held.push_back(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // The ones past the cap were closed at once.
  int closed = 0;
  for (int fd : held) {
    char byte;
    timeval brief{.tv_sec = 0, .tv_usec = 50000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &brief, sizeof(brief));
    ssize_t n = recv(fd, &byte, 1, 0);
    closed += n == 0 || (n < 0 && errno == ECONNRESET) ? 1 : 0;
  }
  CHECK(closed >= 5);
  for (int fd : held) {
    close(fd);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(api.request("GET", "/account", api.alice).status == 200);

  // Garbage that is not HTTP at all gets 400 and a closed connection.
  int fd = connect_to(api.address);
  std::string junk = "\x16\x03\x01 not http at all\r\n\r\n";
  send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
  CHECK(contains(read_all(fd), "400 Bad Request"));
  close(fd);
  CHECK(api.server.daemon.log().find("received signal") == std::string::npos);
}

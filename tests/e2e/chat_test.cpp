// ChatOps end to end: Slack's and Mattermost's slash commands at the API, signed as they sign
// them, acting as the key a chat user is linked to, and a long command's result posted to the
// response URL by the daemon.
#include <chrono>
#include <csignal>
#include <thread>

#include <catch2/catch.hpp>

#include "common/hash.hpp"
#include "tests/e2e/api_harness.hpp"

namespace slipway::test {

namespace {

const std::string k_signing_secret = "8f742231b10e8888abcd99yyyzzz85a5";

// A Slack slash command's form body, and its headers signed at `stamp`.
std::pair<std::string, std::vector<std::string>> slack(const std::string& user,
                                                       const std::string& text,
                                                       const std::string& response_url,
                                                       long stamp) {
  auto encode = [](const std::string& value) {
    std::string out;
    for (unsigned char c : value) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
        out += static_cast<char>(c);
      } else if (c == ' ') {
        out += '+';
      } else {
        out += fmt::format("%{:02X}", c);
      }
    }
    return out;
  };
  std::string body = fmt::format("token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example"
                                 "&channel_id=C2147483705&channel_name=test&user_id={}&user_name="
                                 "steve&command=%2Fslipway&text={}&response_url={}&trigger_id="
                                 "13345224609.738474920.8088930838d88f008e0",
                                 encode(user), encode(text), encode(response_url));
  std::string signature =
      "v0=" + hmac_sha256_hex(k_signing_secret, fmt::format("v0:{}:{}", stamp, body));
  return {body,
          {"Content-Type: application/x-www-form-urlencoded",
           fmt::format("X-Slack-Request-Timestamp: {}", stamp), "X-Slack-Signature: " + signature}};
}

long now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

TEST_CASE("a linked Slack user's promote is done and its result posted, and bad signatures, old "
          "requests, unlinked users and keys without access are refused",
          "[chat]") {
  ApiServer api("[webhooks]\nallow_private = true\n");
  Server& server = api.server;
  auto setup = run({.argv = {slipway_binary().string(), "--root", server.root.string(),
                             "chat:setup", "--slack-signing-secret", "-"},
                    .stdin_data = k_signing_secret + "\n"});
  REQUIRE(setup);
  REQUIRE(setup->ok());
  REQUIRE(server.slipway({"chat:link", "alice", "--slack-user", "U_ALICE"}).ok());
  REQUIRE(server.slipway({"chat:link", "bob", "--slack-user", "U_BOB"}).ok());
  server.create("shop-staging");
  REQUIRE(server.slipway({"apps:create", "shop-production"}).ok());
  REQUIRE(server.slipway({"pipelines:create", "shop", "-a", "shop-staging", "-s", "staging"}).ok());
  REQUIRE(
      server.slipway({"pipelines:add", "shop", "-a", "shop-production", "-s", "production"}).ok());
  REQUIRE(server.push("shop-staging").ok());

  // The response URL: a receiver recording what is posted to it.
  TempDir receiver_dir;
  int receiver_port = free_port();
  write_file(receiver_dir / "r.py", R"(import http.server, sys
log = open(sys.argv[2], "a")
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        log.write(self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode() + "\n")
        log.flush()
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)");
  auto receiver =
      spawn({.argv = {"python3", (receiver_dir / "r.py").string(), std::to_string(receiver_port),
                      (receiver_dir / "posted.txt").string()}},
            {.death_signal = SIGKILL});
  REQUIRE(receiver);
  std::string response_url = fmt::format("http://127.0.0.1:{}/commands/1234", receiver_port);

  auto ask = [&](const std::string& user, const std::string& text, long stamp) {
    auto [body, headers] = slack(user, text, response_url, stamp);
    return api.request("POST", "/chat/slack", "", body, headers);
  };

  // Refused before anything: a wrong signature, a request 6 minutes old.
  auto [body, headers] = slack("U_ALICE", "releases shop-staging", response_url, now());
  headers.back() = "X-Slack-Signature: v0=" + std::string(64, '0');
  CHECK(api.request("POST", "/chat/slack", "", body, headers).status == 401);
  CHECK(ask("U_ALICE", "releases shop-staging", now() - 360).status == 401);

  // An unlinked user is told how to link; a key without access is refused with the reason.
  auto unlinked = ask("U_NOBODY", "releases shop-staging", now());
  CHECK(unlinked.status == 200);
  CHECK(contains(unlinked.json().value("text", ""), "slipway chat:link KEY --slack-user U_NOBODY"));
  auto no_access = ask("U_BOB", "promote shop", now());
  CHECK(contains(no_access.json().value("text", ""), "Refused"));
  auto bob_releases = ask("U_BOB", "releases shop-staging", now());
  CHECK(contains(bob_releases.json().value("text", ""), "Refused"));

  // Answered at once.
  auto releases = ask("U_ALICE", "releases shop-staging", now());
  CHECK(contains(releases.json().value("text", ""), "v1"));
  CHECK(contains(ask("U_ALICE", "help", now()).json().value("text", ""), "promote"));

  // A promotion: answered at once, done, and its result posted to the response URL.
  auto promoting = ask("U_ALICE", "promote shop", now());
  INFO(promoting.body);
  CHECK(contains(promoting.json().value("text", ""), "Promoting shop"));
  bool posted = false;
  for (int i = 0; i < 300 && !posted; ++i) {
    posted = fs::exists(receiver_dir / "posted.txt") &&
             contains(read_text(receiver_dir / "posted.txt"), "shop-production succeeded");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO((fs::exists(receiver_dir / "posted.txt") ? read_text(receiver_dir / "posted.txt") : ""));
  CHECK(posted);
  CHECK(server.serves("shop-production", "hello from shop-staging"));

  // deploy: a branch of the app's repository, through the same push path.
  server.write("shop-staging", "www/index.html", "from the feature branch\n");
  server.commit("shop-staging", "feature");
  server.git("shop-staging", {"push", "-q", (server.root / "repos" / "shop-staging.git").string(),
                              "HEAD:refs/heads/feature"});
  auto deploying = ask("U_ALICE", "deploy shop-staging feature", now());
  CHECK(contains(deploying.json().value("text", ""), "Deploying shop-staging"));
  bool deployed = false;
  for (int i = 0; i < 300 && !deployed; ++i) {
    deployed = contains(read_text(receiver_dir / "posted.txt"), "shop-staging deployed feature");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  INFO(read_text(receiver_dir / "posted.txt"));
  CHECK(deployed);
  CHECK(server.serves("shop-staging", "from the feature branch"));
  CHECK(contains(server.releases("shop-staging").dump(), "(chat)"));
  ::kill(receiver->pid, SIGKILL);
  wait_spawned(*receiver);

  // Mattermost: its token, in the form.
  auto token = run({.argv = {slipway_binary().string(), "--root", server.root.string(),
                             "chat:setup", "--mattermost-token", "-"},
                    .stdin_data = "mm-token-123\n"});
  REQUIRE(token);
  REQUIRE(token->ok());
  REQUIRE(server.slipway({"chat:link", "alice", "--mattermost-user", "mm_alice"}).ok());
  std::vector<std::string> form = {"Content-Type: application/x-www-form-urlencoded"};
  auto mattermost = api.request(
      "POST", "/chat/mattermost", "",
      "channel_id=c1&command=%2Fslipway&text=ps+shop-staging&token=mm-token-123&user_id=mm_alice",
      form);
  CHECK(mattermost.status == 200);
  CHECK(contains(mattermost.json().value("text", ""), "web.1"));
  CHECK(api.request("POST", "/chat/mattermost", "",
                    "text=ps+shop-staging&token=guess&user_id=mm_alice", form)
            .status == 401);
}

} // namespace slipway::test

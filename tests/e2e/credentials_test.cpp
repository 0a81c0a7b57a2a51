// Git-host credentials by the CLI: a token from stdin and a deploy key added, listed by name
// and kind only, refused to a collaborator and over ssh as a server path, and never in the
// output, the events or the app logs.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/server.hpp"

namespace slipway::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string k_token = "ghp_SeCrEt0123456789";
const std::string k_key = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5\n"
                          "-----END OPENSSH PRIVATE KEY-----\n";

TEST_CASE("credentials are added from stdin or a file, listed without secrets, and removed",
          "[credentials]") {
  Server server{{.start_daemon = false}};
  auto run_with_stdin = [&](std::vector<std::string> args, const std::string& input) {
    args.insert(args.begin(), {SLIPWAY_BIN, "--root", server.root.string()});
    auto ran = run({.argv = args, .stdin_data = input});
    REQUIRE(ran);
    return *ran;
  };
  auto added = run_with_stdin({"credentials:add", "github", "--token", "-"}, k_token + "\n");
  INFO(added.output);
  REQUIRE(added.ok());
  CHECK(contains(added.output, "Added credential 'github' (token)"));
  write_file(server.dir / "deploy_key", k_key, 0600);
  REQUIRE(
      server
          .slipway({"credentials:add", "deploy", "--ssh-key", (server.dir / "deploy_key").string()})
          .ok());

  auto listed = json::parse(server.slipway({"credentials", "--json"}).output);
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["name"] == "deploy");
  CHECK(listed[0]["kind"] == "ssh-key");
  CHECK(listed[1]["kind"] == "token");
  auto everything = server.slipway({"credentials"}).output + listed.dump() +
                    server.slipway({"events", "-n", "0", "--json"}).output;
  CHECK_FALSE(contains(everything, k_token));
  CHECK_FALSE(contains(everything, "c2VjcmV0LWtleS1ib2R5"));
  CHECK(contains(server.slipway({"events", "-n", "0"}).output, "Credential github (token) added"));

  // Refused: a token on the command line, both secrets, a name in use, a bad key.
  auto bad = server.slipway({"credentials:add", "x", "--token", k_token});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "--token takes '-'"));
  CHECK_FALSE(contains(bad.output, k_token));
  bad = run_with_stdin({"credentials:add", "github", "--token", "-"}, "other");
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "credential 'github' exists"));
  bad = run_with_stdin({"credentials:add", "k", "--ssh-key", "-"}, "ssh-ed25519 AAAA public\n");
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "private key file"));
  bad = server.slipway({"credentials:add", "k"});
  CHECK_FALSE(bad.ok());
  CHECK(contains(bad.output, "give one secret"));

  REQUIRE(server.slipway({"credentials:remove", "github"}).ok());
  CHECK(json::parse(server.slipway({"credentials", "--json"}).output).size() == 1);
  CHECK_FALSE(fs::exists(server.root / "credentials/github.toml"));
}

TEST_CASE("a collaborator may not touch credentials, and an admin over ssh may not name a "
          "server file",
          "[credentials]") {
  // keys:add writes authorized_keys: the test's own, never ~/.ssh's.
  Server server{
      {.config = "[ssh]\nauthorized_keys = \"@DIR@/authorized_keys\"\n", .start_daemon = false}};
  auto as_key = [&](const std::string& key, std::vector<std::string> args,
                    const std::string& input = "") {
    args.insert(args.begin(), {SLIPWAY_BIN, "--root", server.root.string()});
    auto ran = run({.argv = args, .env = {{"SLIPWAY_USER", key}}, .stdin_data = input});
    REQUIRE(ran);
    return *ran;
  };
  for (auto [name, admin] : {std::pair{"alice", true}, std::pair{"bob", false}}) {
    fs::path key = server.dir / name;
    REQUIRE(
        run_program({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.string()})
            .ok());
    std::vector<std::string> args = {SLIPWAY_BIN, "--root", server.root.string(), "keys:add", name};
    if (admin) {
      args.push_back("--admin");
    }
    auto added = run({.argv = args, .stdin_data = read_text(key.string() + ".pub")});
    REQUIRE(added);
    INFO(added->output);
    REQUIRE(added->ok());
  }
  auto refused = as_key("bob", {"credentials:add", "mine", "--token", "-"}, "t0ken");
  CHECK_FALSE(refused.ok());
  CHECK(contains(refused.output, "'credentials:add' needs an admin key"));
  CHECK_FALSE(as_key("bob", {"credentials"}).ok());
  auto path = as_key("alice", {"credentials:add", "shadow", "--ssh-key", "/etc/shadow"});
  CHECK_FALSE(path.ok());
  CHECK(contains(path.output, "over ssh, --ssh-key takes '-'"));
  CHECK(as_key("alice", {"credentials:add", "ok", "--token", "-"}, "t0ken").ok());
}

} // namespace
} // namespace slipway::test

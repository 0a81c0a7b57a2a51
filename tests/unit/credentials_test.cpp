#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "runtime/credentials.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;
using test::TempDir;
using test::write_file;

namespace {

const std::string k_key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
                          "-----END OPENSSH PRIVATE KEY-----\n";

Credential token(const std::string& name, const std::string& secret) {
  return {.name = name,
          .kind = CredentialKind::token,
          .secret = secret,
          .added_at =
              std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now())};
}

} // namespace

TEST_CASE("a credential round-trips 0600 in a 0700 directory, and is listed without its secret",
          "[credentials]") {
  TempDir dir;
  Layout layout(dir.path());
  REQUIRE(add_credential(layout, token("github", "ghp_abc123")));
  REQUIRE(add_credential(
      layout,
      {.name = "deploy-key", .kind = CredentialKind::ssh_key, .secret = k_key, .added_at = {}}));
  auto loaded = load_credential(layout, "github");
  REQUIRE(loaded);
  CHECK(loaded->secret == "ghp_abc123");
  CHECK(loaded->kind == CredentialKind::token);
  CHECK(load_credential(layout, "deploy-key").value().secret == k_key);
  struct stat info {};
  REQUIRE(::stat(layout.credential_file("github").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  REQUIRE(::stat(layout.credentials_dir().c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);
  auto listed = list_credentials(layout).value();
  REQUIRE(listed.size() == 2);
  CHECK(listed[0].name == "deploy-key");
  CHECK(listed[0].secret.empty());
  CHECK(listed[1].secret.empty());

  // A name in use is refused, not overwritten; removing it frees the name.
  auto twice = add_credential(layout, token("github", "other"));
  REQUIRE_FALSE(twice);
  CHECK(twice.error().kind == ErrorKind::conflict);
  CHECK(load_credential(layout, "github").value().secret == "ghp_abc123");
  REQUIRE(remove_credential(layout, "github"));
  CHECK(load_credential(layout, "github").error().kind == ErrorKind::not_found);
  CHECK(remove_credential(layout, "github").error().kind == ErrorKind::not_found);
}

TEST_CASE("malformed credential names and secrets are refused without quoting the secret",
          "[credentials]") {
  TempDir dir;
  Layout layout(dir.path());
  for (const std::string& name :
       std::vector<std::string>{"", "Github", "../x", "a/b", "-x", std::string(33, 'a')}) {
    INFO(name);
    auto refused = add_credential(layout, token(name, "t"));
    REQUIRE_FALSE(refused);
    CHECK(contains(refused.error().message, "invalid credential name"));
  }
  for (const std::string& secret :
       std::vector<std::string>{"", "with space", "tab\there", std::string(1025, 'x'), "nl\nin"}) {
    auto refused = add_credential(layout, token("t", secret));
    REQUIRE_FALSE(refused);
    CHECK(contains(refused.error().message, "a token is 1 to 1024"));
    if (secret.size() > 3) {
      CHECK_FALSE(contains(refused.error().message, secret));
    }
  }
  for (const std::string& key : std::vector<std::string>{
           "ssh-ed25519 AAAA public", "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n",
           "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n"}) {
    auto refused = add_credential(
        layout, {.name = "k", .kind = CredentialKind::ssh_key, .secret = key, .added_at = {}});
    REQUIRE_FALSE(refused);
    CHECK(contains(refused.error().message, "an ssh key credential is a private key file"));
  }
}

TEST_CASE("a damaged credential file is an error naming the file, never its content",
          "[credentials]") {
  TempDir dir;
  Layout layout(dir.path());
  std::filesystem::create_directories(layout.credentials_dir());
  for (std::string text : {"kind = 'token'\nsecret = 'hunter2'\n",
                           "kind = 'password'\nsecret = 'hunter2'\n"
                           "added_at = 2026-01-01T00:00:00Z\n",
                           "kind = 'token'\nsecret = 'hunter 2'\nadded_at = 2026-01-01T00:00:00Z\n",
                           "kind = 'token'\nsecret = 'hunter2\nadded_at = x"}) {
    INFO(text);
    write_file(layout.credential_file("bad"), text);
    auto damaged = load_credential(layout, "bad");
    REQUIRE_FALSE(damaged);
    CHECK(contains(damaged.error().message, layout.credential_file("bad").string()));
    CHECK_FALSE(contains(damaged.error().message, "hunter"));
  }
}

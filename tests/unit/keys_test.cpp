#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "runtime/apps.hpp"
#include "runtime/keys.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;

namespace {

std::string new_public_key(const TempDir& dir, const std::string& name) {
  auto made = run_program({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name + "@laptop",
                           "-f", (dir / name).string()});
  REQUIRE(made.ok());
  return read_text(dir / (name + ".pub"));
}

struct Fixture {
  TempDir dir;
  Layout layout{dir / "root"};
  Config config;
  Fixture() {
    config.ssh.authorized_keys = dir / "ssh" / "authorized_keys";
    REQUIRE(init_root(layout, {}));
  }
};

} // namespace

TEST_CASE("key names are short lowercase words", "[keys]") {
  for (const char* good : {"alice", "a", "ci-bot", "deploy_2"}) {
    CHECK(validate_key_name(good));
  }
  for (const char* bad : {"", "Alice", "1bot", "-x", "a b", "a\"b", "a,command=x",
                          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "../x"}) {
    INFO(bad);
    CHECK_FALSE(validate_key_name(bad));
  }
}

TEST_CASE("a public key is checked with ssh-keygen and kept without its comment", "[keys]") {
  TempDir dir;
  std::string text = new_public_key(dir, "alice");
  auto key = parse_public_key(text);
  REQUIRE(key);
  CHECK(key->public_key.starts_with("ssh-ed25519 AAAA"));
  CHECK_FALSE(contains(key->public_key, "alice@laptop"));
  CHECK(key->fingerprint.starts_with("SHA256:"));

  auto error_for = [](const std::string& input) {
    auto parsed = parse_public_key(input);
    REQUIRE_FALSE(parsed);
    return parsed.error().message;
  };
  CHECK(contains(error_for(""), "is not a public key type"));
  CHECK(contains(error_for("command=\"id\" " + text), "is not a public key type"));
  CHECK(contains(error_for("ssh-dss AAAAB3Nza"), "'ssh-dss' is not a public key type"));
  CHECK(contains(error_for("ssh-ed25519 not*base64"), "not base64"));
  CHECK(contains(error_for("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBROKEN"),
                 "not a valid ssh-ed25519 public key"));
  CHECK(contains(error_for(text + text), "one public key, not several lines"));
  CHECK(contains(error_for("-----BEGIN OPENSSH PRIVATE KEY-----\n"), "is not a public key type"));
}

TEST_CASE("keys:add refuses a duplicate name or key and keeps others' lines", "[keys]") {
  Fixture fixture;
  write_file(fixture.dir / "ssh" / "authorized_keys", "ssh-rsa AAAAB3Nz someone@else\n", 0600);
  std::string alice = new_public_key(fixture.dir, "alice");
  std::string bob = new_public_key(fixture.dir, "bob");
  REQUIRE(add_key(fixture.layout, fixture.config, "alice", alice, false));
  auto same_name = add_key(fixture.layout, fixture.config, "alice", bob, false);
  REQUIRE_FALSE(same_name);
  CHECK(contains(same_name.error().message, "a key named 'alice' exists already"));
  auto same_key = add_key(fixture.layout, fixture.config, "alice2", alice, true);
  REQUIRE_FALSE(same_key);
  CHECK(contains(same_key.error().message, "already added, as 'alice'"));
  REQUIRE(add_key(fixture.layout, fixture.config, "bob", bob, true));

  std::string lines = read_text(fixture.dir / "ssh" / "authorized_keys");
  CHECK(lines.starts_with("ssh-rsa AAAAB3Nz someone@else\n"));
  // No forwarding but to the Platform API's port on loopback (the default 127.0.0.1:5000).
  CHECK(contains(lines, "ssh-command alice\",restrict,pty,port-forwarding,"
                        "permitopen=\"127.0.0.1:5000\" ssh-ed25519 "));
  CHECK(contains(lines, "ssh-command bob\",restrict,pty,port-forwarding,"
                        "permitopen=\"127.0.0.1:5000\" ssh-ed25519 "));
  fixture.config.api.listen = "0.0.0.0:5123";
  REQUIRE(write_authorized_keys(fixture.layout, fixture.config));
  CHECK(contains(read_text(fixture.dir / "ssh" / "authorized_keys"),
                 "ssh-command bob\",restrict,pty,port-forwarding,permitopen=\"127.0.0.1:5123\" "));
  fixture.config.api.listen = ""; // no API: no forwarding at all
  REQUIRE(write_authorized_keys(fixture.layout, fixture.config));
  lines = read_text(fixture.dir / "ssh" / "authorized_keys");
  CHECK(contains(lines, "ssh-command bob\",restrict,pty ssh-ed25519 "));
  CHECK_FALSE(contains(lines, "port-forwarding"));
  CHECK((fs::status(fixture.dir / "ssh" / "authorized_keys").permissions() &
         fs::perms::group_read) == fs::perms::none);
  auto keys = list_keys(fixture.layout);
  REQUIRE(keys.size() == 2);
  CHECK_FALSE(keys[0].admin);
  CHECK(keys[1].admin);

  // Removing a key takes its line and its access away.
  REQUIRE(create_app(fixture.layout, "demo"));
  auto info = app_info(fixture.layout, "demo");
  info->access = {"alice"};
  REQUIRE(save_app_info(fixture.layout, *info));
  REQUIRE(remove_key(fixture.layout, fixture.config, "alice"));
  CHECK(app_info(fixture.layout, "demo")->access.empty());
  lines = read_text(fixture.dir / "ssh" / "authorized_keys");
  CHECK_FALSE(contains(lines, "alice"));
  CHECK(contains(lines, "someone@else"));
  CHECK(contains(remove_key(fixture.layout, fixture.config, "alice").error().message,
                 "no key named 'alice'"));
}

TEST_CASE("a corrupt keys file is an error, not an empty list of rights", "[keys]") {
  Fixture fixture;
  fs::create_directories(fixture.layout.keys_file().parent_path());
  REQUIRE(write_file_atomic(fixture.layout.keys_file(), "[[key]]\nname = \"x\"\n"));
  auto key = find_key(fixture.layout, "x");
  REQUIRE_FALSE(key);
  CHECK(contains(key.error().message, "key 1 is malformed"));
  REQUIRE(write_file_atomic(fixture.layout.keys_file(), "[[key]\n"));
  CHECK(contains(find_key(fixture.layout, "x").error().message, "is corrupt"));
}

TEST_CASE("a key's email is its own when given, else NAME@DOMAIN, and names it", "[keys]") {
  Fixture f;
  f.config.server.domain = "example.org";
  REQUIRE(add_key(f.layout, f.config, "alice", new_public_key(f.dir, "alice"), true));
  REQUIRE(
      add_key(f.layout, f.config, "bob", new_public_key(f.dir, "bob"), false, "bob@work.example"));
  CHECK(key_email(*find_key(f.layout, "alice"), f.config) == "alice@example.org");
  CHECK(key_email(*find_key(f.layout, "bob"), f.config) == "bob@work.example");
  CHECK(key_by_email(f.layout, f.config, "bob@work.example")->name == "bob");
  CHECK(key_by_email(f.layout, f.config, "alice@example.org")->name == "alice");
  CHECK_FALSE(key_by_email(f.layout, f.config, "bob@example.org"));
  // Another key may not take an email that is already someone's.
  auto taken = add_key(f.layout, f.config, "carol", new_public_key(f.dir, "carol"), false,
                       "alice@example.org");
  REQUIRE_FALSE(taken);
  CHECK(contains(taken.error().message, "belongs to key 'alice' already"));
  for (const char* email : {"", "no-at-sign", "@example.org", "a@", "a@b@c", "a b@c.d", "a\"@c.d",
                            "<a@c.d>", "a@c.d\n"}) {
    INFO(email);
    CHECK_FALSE(validate_email(email));
  }
  CHECK(validate_email("first.last+tag@sub.example.org"));
}

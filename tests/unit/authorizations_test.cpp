#include <catch2/catch.hpp>

#include "common/files.hpp"
#include "runtime/authorizations.hpp"
#include "runtime/keys.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using namespace slipway::test;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  TempDir dir;
  Layout layout{dir / "root"};
  Config config;
  Fixture() {
    config.ssh.authorized_keys = dir / "ssh" / "authorized_keys";
    REQUIRE(init_root(layout, {}));
    for (const char* name : {"alice", "bob"}) {
      REQUIRE(
          run_program({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (dir / name).string()})
              .ok());
      REQUIRE(add_key(layout, config, name, read_text(dir / (std::string(name) + ".pub")), false));
    }
  }
};

} // namespace

TEST_CASE("a token is made for a key, kept only as its hash, and matched", "[authorizations]") {
  Fixture f;
  auto made = create_authorization(f.layout, "alice", "laptop", std::nullopt);
  REQUIRE(made);
  CHECK(made->token.starts_with(k_token_prefix));
  CHECK(made->token.size() == k_token_prefix.size() + 64);
  auto text = read_text(f.layout.authorizations_file());
  CHECK(text.find(made->token.substr(k_token_prefix.size())) == std::string::npos);
  CHECK((fs::status(f.layout.authorizations_file()).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));

  auto all = list_authorizations(f.layout);
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  auto now = std::chrono::system_clock::now();
  auto matched = match_token(*all, made->token, now);
  REQUIRE(matched);
  CHECK(matched->key == "alice");
  CHECK(matched->description == "laptop");
  CHECK_FALSE(match_token(*all, made->token + "x", now));
  CHECK_FALSE(match_token(*all, "", now));
  CHECK_FALSE(match_token(*all, made->token.substr(0, 20), now));

  REQUIRE(revoke_authorization(f.layout, made->authorization.id));
  CHECK_FALSE(match_token(*list_authorizations(f.layout), made->token, now));
  CHECK_FALSE(revoke_authorization(f.layout, made->authorization.id));
}

TEST_CASE("a token expires, and goes with its key", "[authorizations]") {
  Fixture f;
  auto brief = create_authorization(f.layout, "bob", "", std::chrono::seconds(60));
  REQUIRE(brief);
  auto all = *list_authorizations(f.layout);
  auto now = std::chrono::system_clock::now();
  CHECK(match_token(all, brief->token, now));
  CHECK_FALSE(match_token(all, brief->token, now + std::chrono::seconds(61)));

  auto lasting = create_authorization(f.layout, "bob", "", std::nullopt);
  REQUIRE(lasting);
  REQUIRE(remove_key(f.layout, f.config, "bob"));
  CHECK(list_authorizations(f.layout)->empty());
}

TEST_CASE("what a token is made with is checked", "[authorizations]") {
  Fixture f;
  CHECK_FALSE(create_authorization(f.layout, "carol", "", std::nullopt)); // no such key
  CHECK_FALSE(create_authorization(f.layout, "alice", "two\nlines", std::nullopt));
  CHECK_FALSE(create_authorization(f.layout, "alice", std::string(201, 'x'), std::nullopt));
  CHECK_FALSE(create_authorization(f.layout, "alice", "", std::chrono::seconds(0)));
  CHECK_FALSE(create_authorization(f.layout, "alice", "", std::chrono::seconds(-5)));
  for (std::size_t i = 0; i < k_max_authorizations_per_key; ++i) {
    REQUIRE(create_authorization(f.layout, "alice", "", std::nullopt));
  }
  auto one_more = create_authorization(f.layout, "alice", "", std::nullopt);
  REQUIRE_FALSE(one_more);
  CHECK(one_more.error().message.find("revoke one first") != std::string::npos);
}

TEST_CASE("a damaged authorizations file is an error that names it", "[authorizations]") {
  Fixture f;
  write_file(f.layout.authorizations_file(), "[[authorization]]\nid = \"x\"\n");
  auto read = list_authorizations(f.layout);
  REQUIRE_FALSE(read);
  CHECK(read.error().message.find("authorization 1 is malformed") != std::string::npos);
  write_file(f.layout.authorizations_file(), "not = [toml");
  read = list_authorizations(f.layout);
  REQUIRE_FALSE(read);
  CHECK(read.error().message.find("is corrupt") != std::string::npos);
}

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

TEST_CASE("a dashboard session is a token of its own, accepted only as a session, that ends with "
          "the token it was signed in with",
          "[authorizations]") {
  Fixture f;
  auto token = create_authorization(f.layout, "alice", "laptop", std::chrono::hours(2));
  REQUIRE(token);
  auto session = create_session(f.layout, token->authorization);
  REQUIRE(session);
  CHECK(session->token != token->token);
  CHECK(session->authorization.key == "alice");
  CHECK(session->authorization.session_of == token->authorization.id);
  CHECK(session->authorization.description == "dashboard session");
  // It lasts no longer than the token, and no longer than k_session_lifetime.
  REQUIRE(session->authorization.expires_at);
  CHECK(*session->authorization.expires_at <= *token->authorization.expires_at);
  auto lasting = create_authorization(f.layout, "alice", "", std::nullopt);
  REQUIRE(lasting);
  auto long_session = create_session(f.layout, lasting->authorization);
  REQUIRE(long_session);
  CHECK(*long_session->authorization.expires_at <=
        std::chrono::system_clock::now() + k_session_lifetime);
  // A session signs in no other session.
  CHECK_FALSE(create_session(f.layout, session->authorization));

  auto all = *list_authorizations(f.layout);
  auto now = std::chrono::system_clock::now();
  CHECK(match_token(all, session->token, now, TokenUse::session));
  CHECK_FALSE(match_token(all, session->token, now, TokenUse::api));
  CHECK_FALSE(match_token(all, token->token, now, TokenUse::session));
  CHECK(match_token(all, token->token, now, TokenUse::api));
  // Kept across a read and write of the file.
  auto again = *list_authorizations(f.layout);
  auto found = std::ranges::find(again, session->authorization.id, &Authorization::id);
  REQUIRE(found != again.end());
  CHECK(found->session_of == token->authorization.id);

  // Without its token (revoked, or missing from the list), the session is no more.
  auto without = all;
  std::erase_if(without, [&](const Authorization& a) { return a.id == token->authorization.id; });
  CHECK_FALSE(match_token(without, session->token, now, TokenUse::session));
  REQUIRE(revoke_authorization(f.layout, token->authorization.id));
  auto left = *list_authorizations(f.layout);
  CHECK(std::ranges::none_of(
      left, [&](const Authorization& a) { return a.id == session->authorization.id; }));
  CHECK(std::ranges::any_of(
      left, [&](const Authorization& a) { return a.id == long_session->authorization.id; }));
}

TEST_CASE("a malformed session_of in the authorizations file is an error that names it",
          "[authorizations]") {
  Fixture f;
  REQUIRE(create_authorization(f.layout, "alice", "", std::nullopt));
  std::string text = read_text(f.layout.authorizations_file());
  auto at = text.find("token_sha256");
  REQUIRE(at != std::string::npos);
  text.insert(at, "session_of = 'not-a-uuid'\n");
  write_file(f.layout.authorizations_file(), text, 0600);
  auto listed = list_authorizations(f.layout);
  REQUIRE_FALSE(listed);
  CHECK(contains(listed.error().message, "authorization 1 is malformed"));
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

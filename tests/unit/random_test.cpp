#include <set>

#include <catch2/catch.hpp>

#include "common/hash.hpp"
#include "common/random.hpp"

using namespace slipway;

TEST_CASE("random UUIDs are version 4 and differ", "[random]") {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    auto uuid = random_uuid();
    REQUIRE(uuid);
    CHECK(is_uuid(*uuid));
    CHECK((*uuid)[14] == '4');
    CHECK(std::string("89ab").find((*uuid)[19]) != std::string::npos);
    seen.insert(*uuid);
  }
  CHECK(seen.size() == 100);
  auto hex = random_hex(32);
  REQUIRE(hex);
  CHECK(hex->size() == 64);
}

TEST_CASE("derived UUIDs are the same for the same inputs only", "[random]") {
  std::string base = "2f1c7a3e-0000-4000-8000-000000000001";
  CHECK(derived_uuid(base, "release 3") == derived_uuid(base, "release 3"));
  CHECK(derived_uuid(base, "release 3") != derived_uuid(base, "release 4"));
  CHECK(derived_uuid(base, "release 3") != derived_uuid(base + "x", "release 3"));
  // The separator keeps ("ab", "c") and ("a", "bc") apart.
  CHECK(derived_uuid("ab", "c") != derived_uuid("a", "bc"));
  CHECK(is_uuid(derived_uuid(base, "x")));
  CHECK(derived_uuid(base, "x")[14] == '8');
}

TEST_CASE("is_uuid takes the 8-4-4-4-12 form only", "[random]") {
  CHECK(is_uuid("2f1c7a3e-0000-4000-8000-00000000000a"));
  CHECK(is_uuid("2F1C7A3E-0000-4000-8000-00000000000A"));
  CHECK_FALSE(is_uuid(""));
  CHECK_FALSE(is_uuid("2f1c7a3e00004000800000000000000a"));
  CHECK_FALSE(is_uuid("2f1c7a3e-0000-4000-8000-00000000000g"));
  CHECK_FALSE(is_uuid("2f1c7a3e-0000-4000-8000-00000000000a0"));
  CHECK_FALSE(is_uuid("../../../etc/passwd-000000000000000"));
}

TEST_CASE("HMAC-SHA256 matches RFC 4231's test vector, and equality is checked whole",
          "[random][hash]") {
  // RFC 4231, test case 2.
  CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(equal_in_constant_time("abc", "abc"));
  CHECK_FALSE(equal_in_constant_time("abc", "abd"));
  CHECK_FALSE(equal_in_constant_time("abc", "abcd"));
  CHECK(equal_in_constant_time("", ""));
}

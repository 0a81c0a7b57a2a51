#include <catch2/catch.hpp>

#include "runtime/app_name.hpp"
#include "tests/support/test_support.hpp"

using namespace slipway;
using test::contains;

namespace {

// The error validate_app_name gives for `name`; fails the test if the name is accepted.
Error name_error(std::string_view name) {
  auto valid = validate_app_name(name);
  REQUIRE_FALSE(valid);
  return valid.error();
}

} // namespace

TEST_CASE("lowercase names of 2 to 63 letters, digits and dashes are valid", "[app_name]") {
  for (std::string name : {"ab", "a1", "a-", "demo", "my-app", "app-2", "x9-y8-z7", "a--b",
                           "abcdefghijklmnopqrstuvwxyz0123", "z123456789012345678901234567-9"}) {
    INFO("name: " << name);
    CHECK(validate_app_name(name));
  }
}

TEST_CASE("an app name of 63 characters (a DNS label) is valid and 64 is not, a pipeline's 30 "
          "and 31",
          "[app_name]") {
  CHECK(validate_app_name(std::string(63, 'a')));
  auto error = name_error(std::string(64, 'a'));
  CHECK(error.exit_code == 2);
  CHECK(contains(error.message, "'" + std::string(64, 'a') + "'"));
  CHECK(contains(error.message, "use 2-63 lowercase"));
  CHECK(validate_pipeline_name(std::string(30, 'a')));
  auto pipeline = validate_pipeline_name(std::string(31, 'a'));
  REQUIRE_FALSE(pipeline);
  CHECK(contains(pipeline.error().message, "use 2-30 lowercase"));
}

TEST_CASE("empty and one-character names are usage errors", "[app_name]") {
  auto empty = name_error("");
  CHECK(empty.exit_code == 2);
  CHECK(contains(empty.message, "invalid app name ''"));
  auto one = name_error("a");
  CHECK(one.exit_code == 2);
  CHECK(contains(one.message, "invalid app name 'a'"));
}

TEST_CASE("a name with any character outside a-z 0-9 and dash is a usage error", "[app_name]") {
  for (std::string name :
       {"Demo", "demO", "DEMO", "my_app", "my/app", "/demo", "demo/", "..", "a..b", "my.app",
        "my app", " demo", "demo ", "demo\t", "demo:1", "demo$", "demo*", "~demo"}) {
    INFO("name: " << name);
    auto valid = validate_app_name(name);
    REQUIRE_FALSE(valid);
    CHECK(valid.error().exit_code == 2);
  }
}

TEST_CASE("a name must start with a letter", "[app_name]") {
  for (std::string name : {"1demo", "9", "0a", "-demo", "--", "-a"}) {
    INFO("name: " << name);
    auto error = name_error(name);
    CHECK(error.exit_code == 2);
    CHECK(contains(error.message, "'" + name + "'"));
  }
}

TEST_CASE("the error quotes the name and says what a valid name looks like", "[app_name]") {
  auto error = name_error("My_App");
  CHECK(error.exit_code == 2);
  CHECK(error.message == "invalid app name 'My_App' (use 2-63 lowercase letters, digits and "
                         "dashes, starting with a letter)");
}

TEST_CASE("a NUL byte inside the name is refused and shown escaped", "[app_name]") {
  std::string name("demo\0evil", 9);
  REQUIRE(name.size() == 9);
  auto error = name_error(name);
  CHECK(error.exit_code == 2);
  CHECK(contains(error.message, "'demo\\x00evil'"));
  CHECK(error.message.find('\0') == std::string::npos);
}

TEST_CASE("non-ASCII bytes are refused and shown as escaped hex", "[app_name]") {
  // "dém" in UTF-8, and a lone high byte.
  auto accented = name_error("d\xc3\xa9mo");
  CHECK(accented.exit_code == 2);
  CHECK(contains(accented.message, "'d\\xc3\\xa9mo'"));
  auto high = name_error("demo\xff");
  CHECK(contains(high.message, "'demo\\xff'"));
  auto control = name_error("de\nmo\x7f");
  CHECK(contains(control.message, "'de\\x0amo\\x7f'"));
  for (char c : accented.message + high.message + control.message) {
    CHECK((c >= 0x20 && c < 0x7f));
  }
}

TEST_CASE("a 10 KB name is refused with a shortened quote", "[app_name]") {
  std::string name(10 * 1024, 'a');
  auto error = name_error(name);
  CHECK(error.exit_code == 2);
  CHECK(contains(error.message, "'" + std::string(70, 'a') + "...'"));
  CHECK(error.message.size() < 200);
}

TEST_CASE("a new app may not take the name the server keeps for its dashboard", "[app_name]") {
  CHECK(validate_app_name("dashboard"));
  auto refused = validate_new_app_name("dashboard");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::usage);
  CHECK(refused.error().message.find("dashboard") != std::string::npos);
  CHECK(validate_new_app_name("dashboard-app"));
  CHECK_FALSE(validate_new_app_name("Dashboard"));
}

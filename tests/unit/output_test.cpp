#include <catch2/catch.hpp>

#include "common/output.hpp"

using namespace slipway;

TEST_CASE("printable escapes control characters and bytes that are not UTF-8", "[output]") {
  CHECK(printable("plain text") == "plain text");
  CHECK(printable("caf\xc3\xa9 \xe2\x82\xac") == "caf\xc3\xa9 \xe2\x82\xac");
  CHECK(printable("\x1b[31mred\x1b[0m") == "\\x1b[31mred\\x1b[0m");
  CHECK(printable("a\tb\nc\x7f") == "a\\x09b\\x0ac\\x7f");
  CHECK(printable("\xff\xfe") == "\\xff\\xfe");
  CHECK(printable("\xc3") == "\\xc3");          // truncated sequence
  CHECK(printable("\xc0\xaf") == "\\xc0\\xaf"); // overlong '/'
}

TEST_CASE("is_utf8 accepts well-formed UTF-8 only", "[output]") {
  CHECK(is_utf8(""));
  CHECK(is_utf8("ascii"));
  CHECK(is_utf8("\xf0\x9f\x9a\x80 rocket"));
  CHECK_FALSE(is_utf8("\xed\xa0\x80"));     // a surrogate
  CHECK_FALSE(is_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
  CHECK_FALSE(is_utf8("\xe0\x80\xaf"));     // overlong
  CHECK_FALSE(is_utf8("abc\x80"));
}

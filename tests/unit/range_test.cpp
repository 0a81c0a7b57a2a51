#include <array>

#include <catch2/catch.hpp>

#include "api/range.hpp"

using namespace slipway;
using namespace slipway::api;

namespace {

constexpr std::array<std::string_view, 2> k_fields = {"version", "id"};

std::vector<int> versions(const Page<int>& page) {
  return page.items;
}

Page<int> page_of(const std::string& header, int count) {
  auto range = parse_range(header, k_fields);
  REQUIRE(range);
  std::vector<int> items;
  for (int i = 1; i <= count; ++i) {
    items.push_back(i);
  }
  return paginate<int>(items, *range, [](const int& v) { return std::to_string(v); });
}

} // namespace

TEST_CASE("a Range header is read as the heroku CLI writes it", "[api][range]") {
  auto cli = parse_range("version ..; max=15, order=desc", k_fields);
  REQUIRE(cli);
  CHECK(cli->field == "version");
  CHECK(cli->max == 15);
  CHECK(cli->descending);
  CHECK_FALSE(cli->start);

  auto swapped = parse_range("version ..; order=desc,max=1", k_fields);
  REQUIRE(swapped);
  CHECK(swapped->max == 1);
  CHECK(swapped->descending);

  auto trailing = parse_range("id ..; max=1000;", k_fields);
  REQUIRE(trailing);
  CHECK(trailing->field == "id");
  CHECK(trailing->max == 1000);

  auto next = parse_range("version ]9..; max=5, order=desc", k_fields);
  REQUIRE(next);
  CHECK(next->start == "9");
  CHECK(next->exclusive);

  auto none = parse_range("", k_fields);
  REQUIRE(none);
  CHECK(none->field == "version");
  CHECK(none->max == k_default_page);
}

TEST_CASE("a malformed Range header is refused with what is wrong", "[api][range]") {
  auto check = [](const std::string& header, const std::string& message) {
    auto range = parse_range(header, k_fields);
    INFO(header);
    REQUIRE_FALSE(range);
    CHECK(range.error().kind == ErrorKind::usage);
    CHECK(range.error().message.find(message) != std::string::npos);
  };
  check("colour ..", "cannot sort this list by 'colour'");
  check("version 3", "START..END");
  check("version a..b", "bounds are numbers");
  check("version ..; max=0", "max is a number from 1 to 1000");
  check("version ..; max=1001", "max is a number from 1 to 1000");
  check("version ..; max=-1", "max is a number");
  check("version ..; order=sideways", "order is asc or desc");
  check("version ..; colour=red", "unknown Range option 'colour'");
  check("version .." + std::string(2000, ' ') + "x", "too long");
}

TEST_CASE("a page holds at most max items from its start, in its order", "[api][range]") {
  CHECK(versions(page_of("version ..; max=3, order=desc", 10)) == std::vector{10, 9, 8});
  CHECK(page_of("version ..; max=3, order=desc", 10).more);
  CHECK(versions(page_of("version ]8..; max=3, order=desc", 10)) == std::vector{7, 6, 5});
  CHECK(versions(page_of("version 8..; max=3, order=desc", 10)) == std::vector{8, 7, 6});
  CHECK(versions(page_of("version ]3..; max=3, order=desc", 10)) == std::vector{2, 1});
  CHECK_FALSE(page_of("version ]3..; max=3, order=desc", 10).more);
  CHECK(versions(page_of("version 2..4", 10)) == std::vector{2, 3, 4});
  // Versions compare as numbers, not text: 10 after 9.
  CHECK(versions(page_of("version ]8..; max=5", 10)) == std::vector{9, 10});
  CHECK(versions(page_of("", 0)).empty());
}

TEST_CASE("Next-Range continues after the last item, keeping max and order", "[api][range]") {
  auto range = parse_range("version ..; max=5, order=desc", k_fields);
  REQUIRE(range);
  CHECK(next_range(*range, "9") == "version ]9..; max=5, order=desc");
  auto again = parse_range(next_range(*range, "9"), k_fields);
  REQUIRE(again);
  CHECK(again->start == "9");
  CHECK(again->exclusive);
  CHECK(again->max == 5);
  CHECK(again->descending);
}

TEST_CASE("a test run's number compares as a number, so run 10 comes after run 9", "[api][range]") {
  constexpr std::array<std::string_view, 2> fields = {"number", "id"};
  auto range = parse_range("number ..; order=desc,max=1", fields);
  REQUIRE(range);
  std::vector<int> runs = {2, 9, 10, 1};
  auto page = paginate<int>(runs, *range, [](const int& v) { return std::to_string(v); });
  CHECK(page.items == std::vector<int>{10});
  auto from = parse_range("number 9..10", fields);
  REQUIRE(from);
  page = paginate<int>(runs, *from, [](const int& v) { return std::to_string(v); });
  CHECK(page.items == std::vector<int>{9, 10});
  CHECK_FALSE(parse_range("number a..b", fields));
}

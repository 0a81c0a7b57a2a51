#include <catch2/catch.hpp>

#include "runtime/daemon/health.hpp"

using namespace slipway;
using namespace slipway::daemon;

TEST_CASE("an HTTP answer is read for its status and body", "[health]") {
  auto ok = parse_http_answer("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello\n");
  CHECK(ok.status == 200);
  CHECK(ok.body == "hello\n");
  CHECK(ok.problem.empty());
  CHECK(parse_http_answer("HTTP/1.0 503 Service Unavailable\r\n\r\n").status == 503);
  // No reason phrase, no body.
  auto bare = parse_http_answer("HTTP/1.1 204\r\n\r\n");
  CHECK(bare.status == 204);
  CHECK(bare.body.empty());
  CHECK(parse_http_answer("HTTP/1.1 302").status == 302);
}

TEST_CASE("what is not an HTTP answer says so, with no status", "[health]") {
  for (std::string_view received :
       {"SSH-2.0-OpenSSH_9.2\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 20\r\n", "HTTP/2 200\r\n",
        "HTTP/1.1 2000 OK\r\n", "HTTP/1.1 099 Low\r\n", "HTTP/1.1 600 High\r\n",
        "HTTP/1.1  200 OK\r\n"}) {
    INFO(received);
    auto answer = parse_http_answer(received);
    CHECK(answer.status == 0);
    CHECK(answer.problem == "the answer was not HTTP");
  }
  CHECK(parse_http_answer("").problem == "the connection closed without an answer");
}

TEST_CASE("the health decision: any status below 500 by default, app.json's check exactly",
          "[health]") {
  HealthCheck any;
  CHECK(judge_health(any, {.status = 200}).healthy);
  CHECK(judge_health(any, {.status = 404}).healthy); // the app answers: it is up
  auto failing = judge_health(any, {.status = 502});
  CHECK_FALSE(failing.healthy);
  CHECK(failing.why == "it answered 502 on /");

  HealthCheck declared{.path = "/health", .content = "ok", .declared = true};
  CHECK(judge_health(declared, {.status = 200, .body = "all ok"}).healthy);
  CHECK(judge_health(declared, {.status = 301, .body = "ok"}).healthy);
  CHECK(judge_health(declared, {.status = 200, .body = "starting"}).why ==
        "it answered 200 on /health without 'ok'");
  CHECK(judge_health(declared, {.status = 404, .body = "ok"}).why == "it answered 404 on /health");

  // No answer: a refused connection is the normal wait, anything else is worth telling.
  auto refused = judge_health(declared, {.problem = "connection refused"});
  CHECK_FALSE(refused.healthy);
  CHECK(refused.why.empty());
  CHECK(judge_health(declared, {.problem = "no answer within 2s"}).why ==
        "no answer within 2s on /health");
}

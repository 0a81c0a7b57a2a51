// The Platform API's e2e tests' own server: a test Server (daemon, nginx, an app's port
// block) whose API listens on a free loopback port, with an admin key `alice` and a
// collaborator key `bob` (email bob@example.com), a token of each, and two ways in: HTTP
// requests with curl, and the official heroku CLI (tests/tools/heroku, pinned; installed by
// scripts/setup --test) pointed at it with HEROKU_HOST.
#pragma once

#include <map>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/server.hpp"

namespace slipway::test {

namespace fs = std::filesystem;

struct ApiResponse {
  int status = 0;
  std::map<std::string, std::string> headers; // names lowercased
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
};

class ApiServer {
 public:
  explicit ApiServer(const std::string& extra_config = "")
      : server({.config = "[runtime]\nhealth_timeout = \"10s\"\nstop_grace = \"3s\"\n"
                          "[ssh]\nauthorized_keys = \"@DIR@/authorized_keys\"\n" +
                          extra_config}) {
    add_key("alice", {"--admin"});
    add_key("bob", {"--email", "bob@example.com"});
    alice = token("alice");
    bob = token("bob");
    find_address();
  }

  // Where the API listens (a free port, chosen again each time the daemon starts).
  void find_address() {
    fs::path file = server.root / "run" / "api.address";
    for (int i = 0; i < 100 && !fs::exists(file); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    address = read_text(file);
    address.erase(address.find_last_not_of('\n') + 1);
    REQUIRE(address.starts_with("127.0.0.1:"));
  }

  void add_key(const std::string& name, std::vector<std::string> flags) {
    fs::path key = server.dir / name;
    fs::remove(key);
    fs::remove(key.string() + ".pub");
    REQUIRE(
        run_program({"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", key.string()})
            .ok());
    std::vector<std::string> argv = {slipway_binary().string(), "--root", server.root.string(),
                                     "keys:add", name};
    argv.insert(argv.end(), flags.begin(), flags.end());
    auto added = run({.argv = argv, .stdin_data = read_text(key.string() + ".pub")});
    REQUIRE(added);
    INFO(added->output);
    REQUIRE(added->ok());
  }

  // A new token of `key`, made by the server's local user.
  std::string token(const std::string& key, std::vector<std::string> flags = {}) {
    std::vector<std::string> args = {"authorizations:create", "--key", key, "-S"};
    args.insert(args.end(), flags.begin(), flags.end());
    auto made = server.slipway(args);
    INFO(made.output);
    REQUIRE(made.ok());
    std::string out = made.output;
    out.erase(out.find_last_not_of('\n') + 1);
    REQUIRE(out.starts_with("slipway_"));
    return out;
  }

  // The slipway command as key `key` would run it over ssh (SLIPWAY_USER is what the ssh
  // command sets for the key that logged in).
  ExitStatus as_key(const std::string& key, std::vector<std::string> args) const {
    args.insert(args.begin(), {"--root", server.root.string()});
    return run_slipway(args, {{"SLIPWAY_USER", key}});
  }

  // One request with curl; `token` empty: none.
  ApiResponse request(const std::string& method, const std::string& path, const std::string& token,
                      const std::string& body = "", std::vector<std::string> headers = {}) const {
    std::vector<std::string> argv = {"curl", "-s", "-i", "-X", method, "--max-time", "60"};
    if (std::ranges::none_of(headers,
                             [](const std::string& h) { return h.starts_with("Accept:"); })) {
      argv.insert(argv.end(), {"-H", "Accept: application/vnd.heroku+json; version=3"});
    }
    if (!token.empty()) {
      argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token});
    }
    for (const auto& header : headers) {
      argv.insert(argv.end(), {"-H", header});
    }
    if (!body.empty()) {
      // From a file: a body may be larger than a command line.
      fs::path file = server.dir / fmt::format("body-{}", ++m_bodies);
      write_file(file, body);
      argv.insert(argv.end(),
                  {"-H", "Content-Type: application/json", "--data-binary", "@" + file.string()});
    }
    argv.push_back("http://" + address + path);
    auto result = run_program(argv);
    ApiResponse response;
    const std::string& text = result.output;
    auto end = text.find("\r\n\r\n");
    if (!result.ok() || end == std::string::npos) {
      response.body = text;
      return response;
    }
    std::string head = text.substr(0, end);
    response.body = text.substr(end + 4);
    response.status = std::stoi(head.substr(head.find(' ') + 1, 3));
    for (std::size_t at = head.find("\r\n"); at != std::string::npos;) {
      auto next = head.find("\r\n", at + 2);
      std::string line = head.substr(at + 2, next == std::string::npos ? next : next - at - 2);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string name = line.substr(0, colon);
        for (auto& c : name) {
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
      }
      at = next;
    }
    return response;
  }

  // The heroku CLI, as `token`'s key.
  ExitStatus heroku(const std::vector<std::string>& args, const std::string& token = "",
                    std::chrono::milliseconds timeout = std::chrono::minutes(2)) const {
    std::vector<std::string> argv = {SLIPWAY_HEROKU_CLI};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run({.argv = argv,
                       .env = {{"HEROKU_HOST", "http://" + address},
                               {"HEROKU_API_KEY", token.empty() ? alice : token},
                               {"HEROKU_PARTICLEBOARD_URL", "http://" + address},
                               {"HEROKU_SKIP_NEW_VERSION_CHECK", "1"},
                               {"DISABLE_TELEMETRY", "true"},
                               {"NO_COLOR", "1"},
                               {"HOME", (server.dir / "home").string()}},
                       .timeout = timeout});
    REQUIRE(result);
    return *result;
  }

  Server server;
  mutable int m_bodies = 0;
  std::string address; // "127.0.0.1:PORT"
  std::string alice;   // an admin key's token
  std::string bob;     // a collaborator key's token
};

} // namespace slipway::test

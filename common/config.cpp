#include "common/config.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <optional>

#include <toml++/toml.h>

#include "common/files.hpp"
#include "common/subprocess.hpp"
#include "common/time.hpp"

namespace slipway {

namespace {

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
  case toml::node_type::string:
    return "a string";
  case toml::node_type::integer:
    return "an integer";
  case toml::node_type::floating_point:
    return "a float";
  case toml::node_type::boolean:
    return "a boolean";
  case toml::node_type::array:
    return "an array";
  case toml::node_type::table:
    return "a table";
  default:
    return "a date or time";
  }
}

// One handler per key: reads the node into the config or says what is wrong with it.
using Setter = std::function<Expected<void>(const toml::node&, Config&)>;

template <class T>
Expected<T> get(const toml::node& node, std::string_view expected) {
  if (auto value = node.value_exact<T>()) {
    return *value;
  }
  return fail("expected {}, got {}", expected, type_name(node));
}

Setter duration_key(std::chrono::milliseconds& (*field)(Config&),
                    std::chrono::milliseconds min = std::chrono::seconds(1),
                    std::chrono::milliseconds max = std::chrono::days(7)) {
  return [=](const toml::node& node, Config& config) -> Expected<void> {
    auto text = TRY(get<std::string>(node, "a duration string such as \"15m\""));
    auto duration = TRY(parse_duration(text));
    if (duration < min || duration > max) {
      return fail("'{}' is out of range {}-{}", text, format_duration(min), format_duration(max));
    }
    field(config) = duration;
    return {};
  };
}

Setter size_key(std::uint64_t& (*field)(Config&), std::uint64_t min = 1) {
  return [=](const toml::node& node, Config& config) -> Expected<void> {
    auto text = TRY(get<std::string>(node, "a size string such as \"500MB\""));
    auto size = TRY(parse_size(text));
    if (size < min) {
      return fail("'{}' is below the least that works, {}", text, format_size(min));
    }
    field(config) = size;
    return {};
  };
}

Setter int_key(int& (*field)(Config&), long min, long max) {
  return [=](const toml::node& node, Config& config) -> Expected<void> {
    auto value = TRY(get<std::int64_t>(node, "an integer"));
    if (value < min || value > max) {
      return fail("{} is out of range {}-{}", value, min, max);
    }
    field(config) = static_cast<int>(value);
    return {};
  };
}

Setter bool_key(bool& (*field)(Config&)) {
  return [=](const toml::node& node, Config& config) -> Expected<void> {
    field(config) = TRY(get<bool>(node, "true or false"));
    return {};
  };
}

// "LOW-HIGH" with min <= LOW <= HIGH <= max.
std::optional<std::pair<int, int>> parse_range(std::string_view text, int min, int max) {
  auto dash = text.find('-');
  int low = 0;
  int high = 0;
  auto parse = [](std::string_view s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && std::isdigit(static_cast<unsigned char>(s.front())) && ec == std::errc() &&
           end == s.data() + s.size();
  };
  if (dash == std::string_view::npos || !parse(text.substr(0, dash), low) ||
      !parse(text.substr(dash + 1), high) || low < min || high > max || low > high) {
    return std::nullopt;
  }
  return std::pair(low, high);
}

const std::map<std::string, std::map<std::string, Setter>, std::less<>>& schema() {
  static const std::map<std::string, std::map<std::string, Setter>, std::less<>> keys = {
      {"server",
       {
           {"domain",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value = TRY(get<std::string>(node, "a host name such as \"example.com\""));
              if (auto checked = check_host_name(value); !checked) {
                return fail("invalid host name '{}': {}", value, checked.error().message);
              }
              config.server.domain = value;
              return {};
            }},
           {"http_port", int_key([](Config& c) -> int& { return c.server.http_port; }, 1, 65535)},
           {"http_address",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value = TRY(get<std::string>(node, "an IPv4 address such as \"0.0.0.0\""));
              in_addr parsed{};
              if (inet_pton(AF_INET, value.c_str(), &parsed) != 1) {
                return fail("invalid IPv4 address '{}'", value);
              }
              config.server.http_address = value;
              return {};
            }},
           {"deploy_branch",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value = TRY(get<std::string>(node, "a branch name"));
              if (!is_branch_name(value)) {
                return fail("invalid branch name '{}'", value);
              }
              config.server.deploy_branch = value;
              return {};
            }},
       }},
      {"build",
       {
           {"timeout", duration_key([](Config & c) -> auto& { return c.build.timeout; })},
           {"buildpacks",
            [](const toml::node& node, Config& config) -> Expected<void> {
              const auto* array = node.as_array();
              if (!array) {
                return fail("expected an array of strings, got {}", type_name(node));
              }
              std::vector<std::string> names;
              for (const auto& item : *array) {
                auto name = TRY(get<std::string>(item, "an array of strings"));
                names.push_back(name);
              }
              config.build.buildpacks = std::move(names);
              return {};
            }},
           {"local_buildpacks",
            [](const toml::node& node, Config& config) -> Expected<void> {
              const auto* array = node.as_array();
              if (!array) {
                return fail("expected an array of absolute paths, got {}", type_name(node));
              }
              std::vector<std::filesystem::path> dirs;
              for (const auto& item : *array) {
                auto dir = get<std::string>(item, "an array of absolute paths");
                if (!dir) {
                  return std::unexpected(dir.error());
                }
                if (!dir->starts_with('/')) {
                  return fail("'{}' is not an absolute path", *dir);
                }
                dirs.emplace_back(std::filesystem::path(*dir).lexically_normal());
              }
              config.build.local_buildpacks = std::move(dirs);
              return {};
            }},
           {"slug_compression",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value = get<std::string>(node, "\"zstd\" or \"gzip\"");
              if (!value) {
                return std::unexpected(value.error());
              }
              if (*value == "zstd") {
                config.build.slug_compression = SlugCompression::zstd;
              } else if (*value == "gzip") {
                config.build.slug_compression = SlugCompression::gzip;
              } else {
                return fail("unknown compression '{}' (expected \"zstd\" or \"gzip\")", *value);
              }
              return {};
            }},
           {"max_slug_size", size_key([](Config & c) -> auto& { return c.build.max_slug_size; })},
           {"memory", size_key(
                          [](Config & c) -> auto& { return c.build.memory; }, 64ull << 20)},
           {"max_disk", size_key(
                            [](Config & c) -> auto& { return c.build.max_disk; }, 16ull << 20)},
           {"min_free_disk", size_key(
                                 [](Config & c) -> auto& { return c.build.min_free_disk; }, 0)},
           {"sandbox",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value = TRY(get<std::string>(node, "\"bwrap\" or \"none\""));
              if (value == "bwrap") {
                config.build.sandbox = SandboxMode::bwrap;
              } else if (value == "none") {
                config.build.sandbox = SandboxMode::none;
              } else {
                return fail("unknown sandbox '{}' (expected \"bwrap\" or \"none\")", value);
              }
              return {};
            }},
       }},
      {"buildpacks",
       {
           {"official",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value = TRY(get<std::string>(node, "\"builtin\" or \"clone\""));
              if (value == "builtin") {
                config.buildpacks.official = OfficialBuildpacks::builtin;
              } else if (value == "clone") {
                config.buildpacks.official = OfficialBuildpacks::clone;
              } else {
                return fail("unknown value '{}' (expected \"builtin\" or \"clone\")", value);
              }
              return {};
            }},
       }},
      {"api",
       {
           {"listen",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value =
                  TRY(get<std::string>(node, "\"ADDRESS:PORT\" such as \"127.0.0.1:5000\""));
              if (!value.empty()) {
                TRY(parse_listen_address(value));
              }
              config.api.listen = value;
              return {};
            }},
           {"max_connections",
            int_key([](Config& c) -> int& { return c.api.max_connections; }, 1, 65535)},
           {"rate_limit",
            int_key([](Config& c) -> int& { return c.api.rate_limit; }, 1, 1'000'000'000)},
       }},
      {"ci",
       {
           {"workers", int_key([](Config& c) -> int& { return c.ci.workers; }, 0, 256)},
           {"timeout", duration_key([](Config & c) -> auto& { return c.ci.timeout; })},
       }},
      {"ssh",
       {
           {"authorized_keys",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value = get<std::string>(node, "an absolute path");
              if (!value) {
                return std::unexpected(value.error());
              }
              if (!value->starts_with('/')) {
                return fail("'{}' is not an absolute path", *value);
              }
              config.ssh.authorized_keys = *value;
              return {};
            }},
       }},
      {"git_hosts",
       {
           {"allow_private", bool_key([](Config& c) -> bool& { return c.git_hosts.allow_private; })},
           {"public_url",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto value = TRY(get<std::string>(node, "a URL such as \"https://slipway.example.com\""));
              while (value.ends_with('/')) {
                value.pop_back();
              }
              bool ok = (value.starts_with("https://") || value.starts_with("http://")) &&
                        value.size() < 256 && std::ranges::none_of(value, [](char c) {
                          return c <= ' ' || c >= 127 || c == '?' || c == '#' || c == '"';
                        });
              if (!ok && !value.empty()) {
                return fail("'{}' is not an http:// or https:// URL", value);
              }
              config.git_hosts.public_url = value;
              return {};
            }},
           {"fetch_timeout",
            duration_key([](Config & c) -> auto& { return c.git_hosts.fetch_timeout; })},
       }},
      {"webhooks",
       {
           {"allow_private", bool_key([](Config& c) -> bool& { return c.webhooks.allow_private; })},
           {"retry_for", duration_key([](Config & c) -> auto& { return c.webhooks.retry_for; },
                                      std::chrono::seconds(1), std::chrono::days(30))},
       }},
      {"scheduler",
       {
           {"engine",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto got = get<std::string>(node, "\"local\" or \"swarm\"");
              if (!got) {
                return std::unexpected(got.error());
              }
              const std::string& value = *got;
              config.scheduler.engine = TRY(parse_engine(value));
              return {};
            }},
           {"docker_host",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto got = get<std::string>(node, "\"unix:///PATH\"");
              if (!got) {
                return std::unexpected(got.error());
              }
              const std::string& value = *got;
              bool ok = value.starts_with("unix:///") && value.size() < 200 &&
                        std::ranges::none_of(value, [](char c) { return c <= ' ' || c >= 127; });
              if (!ok) {
                return fail("'{}' is not a Unix socket's address such as "
                            "\"unix:///var/run/docker.sock\"",
                            value.substr(0, 200));
              }
              config.scheduler.docker_host = value;
              return {};
            }},
           {"registry",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto got = get<std::string>(node, "\"HOST:PORT\" or \"http://HOST:PORT\"");
              if (!got) {
                return std::unexpected(got.error());
              }
              const std::string& value = *got;
              std::string_view address = value;
              if (address.starts_with("http://")) {
                address.remove_prefix(7);
              } else if (address.starts_with("https://")) {
                address.remove_prefix(8);
              }
              auto colon = address.rfind(':');
              bool ok = colon != std::string_view::npos && colon > 0 &&
                        check_host_name(address.substr(0, colon)) &&
                        address.size() - colon - 1 <= 5 && colon + 1 < address.size() &&
                        std::ranges::all_of(address.substr(colon + 1),
                                            [](char c) { return c >= '0' && c <= '9'; });
              if (!ok && !value.empty()) {
                return fail("'{}' is not a registry's \"HOST:PORT\"", value.substr(0, 200));
              }
              config.scheduler.registry = value;
              return {};
            }},
       }},
      {"release",
       {
           {"phase_timeout",
            duration_key([](Config & c) -> auto& { return c.release.phase_timeout; })},
           {"keep_releases",
            int_key([](Config& c) -> int& { return c.release.keep_releases; }, 1, 100000)},
       }},
      {"runtime",
       {
           {"port_range",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto text = TRY(get<std::string>(node, "a range string such as \"20000-29999\""));
              auto range = parse_range(text, 1, 65535);
              if (!range) {
                return fail("malformed port range '{}' (expected LOW-HIGH within 1-65535)", text);
              }
              config.runtime.port_min = range->first;
              config.runtime.port_max = range->second;
              return {};
            }},
           {"health_timeout", duration_key(
                                  [](Config & c) -> auto& { return c.runtime.health_timeout; },
                                  std::chrono::seconds(1), std::chrono::hours(1))},
           {"stop_grace", duration_key(
                              [](Config & c) -> auto& { return c.runtime.stop_grace; },
                              std::chrono::milliseconds(0), std::chrono::hours(1))},
           {"log_size", size_key(
                            [](Config & c) -> auto& { return c.runtime.log_size; }, 4096)},
           {"memory", size_key(
                          [](Config & c) -> auto& { return c.runtime.memory; }, 16ull << 20)},
           {"processes",
            int_key([](Config& c) -> int& { return c.runtime.processes; }, 16, 1 << 20)},
           {"max_disk", size_key(
                            [](Config & c) -> auto& { return c.runtime.max_disk; }, 1ull << 20)},
           {"uid_range",
            [](const toml::node& node, Config& config) -> Expected<void> {
              auto text = TRY(get<std::string>(node, "a range string such as \"200000-299999\""));
              auto range = parse_range(text, 1000, 0x7fffffff);
              if (!range || range->second - range->first < 1) {
                return fail("malformed uid range '{}' (expected LOW-HIGH within 1000-2147483647, "
                            "at least two uids)",
                            text);
              }
              config.runtime.uid_min = range->first;
              config.runtime.uid_max = range->second;
              return {};
            }},
       }},
  };
  return keys;
}

} // namespace

std::string_view to_string(Engine engine) {
  return engine == Engine::swarm ? "swarm" : "local";
}

Expected<Engine> parse_engine(std::string_view text) {
  if (text == "local") {
    return Engine::local;
  }
  if (text == "swarm") {
    return Engine::swarm;
  }
  return fail("unknown engine '{}' (expected \"local\" or \"swarm\")", text.substr(0, 64));
}

Expected<Config> parse_config(std::string_view text, std::string_view origin) {
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& error) {
    return fail("{} line {}: {}", origin, error.source().begin.line, error.description());
  }
  Config config;
  for (const auto& [section_key, section_node] : table) {
    std::string_view section_name = section_key.str();
    auto section = schema().find(section_name);
    if (section == schema().end()) {
      return fail("{}: unknown section '{}'", origin, section_name);
    }
    const auto* section_table = section_node.as_table();
    if (!section_table) {
      return fail("{}: '{}' must be a table, got {}", origin, section_name,
                  type_name(section_node));
    }
    for (const auto& [key, node] : *section_table) {
      auto setter = section->second.find(std::string(key.str()));
      if (setter == section->second.end()) {
        return fail("{}: unknown key '{}.{}'", origin, section_name, key.str());
      }
      if (auto set = setter->second(node, config); !set) {
        return fail("{}: '{}.{}': {}", origin, section_name, key.str(), set.error().message);
      }
    }
  }
  return config;
}

Expected<Config> load_config(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    return Config{};
  }
  auto text = TRY(read_file(file));
  return parse_config(text, file.string());
}

} // namespace slipway

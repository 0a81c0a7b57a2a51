#include "runtime/keys.hpp"

#include <algorithm>
#include <array>
#include <fcntl.h>
#include <pwd.h>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "common/file_lock.hpp"
#include "common/files.hpp"
#include "common/lines.hpp"
#include "common/paths.hpp"
#include "common/subprocess.hpp"
#include "runtime/apps.hpp"
#include "runtime/authorizations.hpp"
#include "runtime/deploy_lock.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::array k_key_types = {"ssh-ed25519",
                                    "ssh-rsa",
                                    "ecdsa-sha2-nistp256",
                                    "ecdsa-sha2-nistp384",
                                    "ecdsa-sha2-nistp521",
                                    "sk-ssh-ed25519@openssh.com",
                                    "sk-ecdsa-sha2-nistp256@openssh.com"};

Expected<std::vector<SshKey>> read_keys(const Layout& layout) {
  std::error_code ec;
  if (!fs::exists(layout.keys_file(), ec)) {
    return std::vector<SshKey>{};
  }
  auto text = TRY(read_file(layout.keys_file()));
  std::vector<SshKey> keys;
  std::string origin = layout.keys_file().string();
  try {
    auto table = toml::parse(text, origin);
    const toml::array* entries = table["key"].as_array();
    for (std::size_t i = 0; entries && i < entries->size(); ++i) {
      const toml::table* entry = (*entries)[i].as_table();
      SshKey key;
      auto name = entry ? (*entry)["name"].value_exact<std::string>() : std::nullopt;
      auto public_key = entry ? (*entry)["public_key"].value_exact<std::string>() : std::nullopt;
      auto fingerprint = entry ? (*entry)["fingerprint"].value_exact<std::string>() : std::nullopt;
      auto admin = entry ? (*entry)["admin"].value_exact<bool>() : std::nullopt;
      auto added = entry ? (*entry)["added_at"].value_exact<toml::date_time>() : std::nullopt;
      auto email = entry ? (*entry)["email"].value_or<std::string>("") : std::string();
      if (!name || !validate_key_name(*name) || !public_key || !fingerprint || !admin || !added ||
          (!email.empty() && !validate_email(email))) {
        return fail("{}: key {} is malformed", origin, i + 1);
      }
      keys.push_back(
          {*name, *admin, *public_key, *fingerprint, from_toml_time(*added), std::move(email)});
    }
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: {}", origin, error.description());
  }
  return keys;
}

Expected<void> write_keys(const Layout& layout, const std::vector<SshKey>& keys) {
  toml::array entries;
  for (const auto& key : keys) {
    toml::table entry{{"name", key.name},
                      {"admin", key.admin},
                      {"public_key", key.public_key},
                      {"fingerprint", key.fingerprint},
                      {"added_at", to_toml_time(key.added_at)}};
    if (!key.email.empty()) {
      entry.insert("email", key.email);
    }
    entries.push_back(std::move(entry));
  }
  std::ostringstream out;
  out << "# slipway's ssh keys: keys:add, keys:remove (do not edit while slipway runs)\n"
      << toml::table{{"key", std::move(entries)}} << "\n";
  std::error_code ec;
  fs::create_directories(layout.keys_file().parent_path(), ec);
  return write_file_atomic(layout.keys_file(), out.str(), 0600);
}

// Single-quoted for the shell sshd runs the forced command with.
std::string sq(const std::string& text) {
  return "'" + text + "'";
}

// The part of a line that marks it as this root's: what keeps another root's lines apart.
std::string owned_marker(const Layout& layout) {
  return " --root " + sq(layout.root().string()) + " ssh-command ";
}

} // namespace

Expected<void> validate_key_name(std::string_view name) {
  bool valid = !name.empty() && name.size() <= 32 && name[0] >= 'a' && name[0] <= 'z' &&
               std::ranges::all_of(name, [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
               });
  if (!valid) {
    return usage_error("invalid key name '{}' (use 1-32 lowercase letters, digits, _ and -, "
                       "starting with a letter)",
                       name.substr(0, 64));
  }
  return {};
}

Expected<void> validate_email(std::string_view email) {
  auto at = email.find('@');
  bool valid = email.size() <= 254 && at != std::string_view::npos && at > 0 &&
               at + 1 < email.size() && email.find('@', at + 1) == std::string_view::npos &&
               std::ranges::all_of(email, [](char c) {
                 return c > ' ' && c < 127 && c != '"' && c != '<' && c != '>' && c != '\\' &&
                        c != ',' && c != ';';
               });
  if (!valid) {
    return usage_error("'{}' is not an email address (LOCAL@DOMAIN, without spaces)",
                       email.substr(0, 64));
  }
  return {};
}

std::string key_email(const SshKey& key, const Config& config) {
  return key.email.empty() ? fmt::format("{}@{}", key.name, config.server.domain) : key.email;
}

std::optional<SshKey> key_by_email(const Layout& layout, const Config& config,
                                   std::string_view email) {
  for (auto& key : list_keys(layout)) {
    if (key_email(key, config) == email) {
      return std::move(key);
    }
  }
  return std::nullopt;
}

Expected<SshKey> parse_public_key(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.find('\n') != std::string_view::npos) {
    return usage_error("give one public key, not several lines");
  }
  std::istringstream in{std::string(text)};
  std::string type;
  std::string data;
  in >> type >> data;
  if (std::ranges::find(k_key_types, type) == k_key_types.end()) {
    return usage_error("'{}' is not a public key type slipway accepts (e.g. ssh-ed25519, "
                       "ssh-rsa; no authorized_keys options)",
                       type.substr(0, 64));
  }
  bool base64 = !data.empty() && data.size() < 16384 && std::ranges::all_of(data, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
  });
  if (!base64) {
    return usage_error("the {} key's data is not base64", type);
  }
  std::string line = type + " " + data;
  auto checked = TRY(run({.argv = {"ssh-keygen", "-l", "-E", "sha256", "-f", "/dev/stdin"},
                          .stdin_data = line + "\n",
                          .timeout = std::chrono::seconds(10)}));
  // "256 SHA256:abc... no comment (ED25519)"
  std::istringstream out(checked.output);
  std::string bits;
  std::string fingerprint;
  out >> bits >> fingerprint;
  if (!checked.ok() || !fingerprint.starts_with("SHA256:")) {
    return usage_error("not a valid {} public key (ssh-keygen cannot read it)", type);
  }
  return SshKey{.public_key = line, .fingerprint = fingerprint};
}

std::vector<SshKey> list_keys(const Layout& layout) {
  auto keys = read_keys(layout);
  return keys ? *keys : std::vector<SshKey>{};
}

Expected<SshKey> find_key(const Layout& layout, const std::string& name) {
  auto keys = TRY(read_keys(layout));
  for (auto& key : keys) {
    if (key.name == name) {
      return key;
    }
  }
  return fail("no key named '{}'", name);
}

Expected<SshKey> add_key(const Layout& layout, const Config& config, const std::string& name,
                         std::string_view public_key, bool admin, const std::string& email) {
  TRY(validate_key_name(name));
  if (!email.empty()) {
    TRY(validate_email(email));
  }
  auto key = TRY(parse_public_key(public_key));
  std::error_code ec;
  fs::create_directories(layout.keys_file().parent_path(), ec);
  auto lock =
      TRY(FileLock::acquire(layout.keys_file().parent_path() / ".lock", FileLock::Mode::exclusive));
  auto keys = TRY(read_keys(layout));
  for (const auto& existing : keys) {
    if (existing.name == name) {
      return fail("a key named '{}' exists already", name);
    }
    if (existing.fingerprint == key.fingerprint) {
      return fail("this key is already added, as '{}'", existing.name);
    }
    if (!email.empty() && key_email(existing, config) == email) {
      return fail("the email {} belongs to key '{}' already", email, existing.name);
    }
  }
  key.name = name;
  key.admin = admin;
  key.email = email;
  key.added_at = std::chrono::system_clock::now();
  keys.push_back(key);
  TRY(write_keys(layout, keys));
  TRY(write_authorized_keys(layout, config));
  return key;
}

Expected<void> remove_key(const Layout& layout, const Config& config, const std::string& name) {
  TRY(validate_key_name(name));
  {
    auto lock = TRY(
        FileLock::acquire(layout.keys_file().parent_path() / ".lock", FileLock::Mode::exclusive));
    auto keys = TRY(read_keys(layout));
    if (std::erase_if(keys, [&](const SshKey& key) { return key.name == name; }) == 0) {
      return fail("no key named '{}'", name);
    }
    TRY(write_keys(layout, keys));
    TRY(write_authorized_keys(layout, config));
  }
  // A key added later under the same name must not inherit this one's apps, or tokens.
  TRY(revoke_authorizations_of(layout, name));
  for (const auto& app : list_apps(layout)) {
    auto lock = lock_app(layout, app, true, {});
    auto info = app_info(layout, app);
    if (lock && info && std::erase(info->access, name) > 0) {
      TRY(save_app_info(layout, *info));
    }
  }
  return {};
}

fs::path authorized_keys_path(const Config& config) {
  if (!config.ssh.authorized_keys.empty()) {
    return config.ssh.authorized_keys;
  }
  const char* home = std::getenv("HOME");
  if (const passwd* entry = getpwuid(getuid()); (!home || !*home) && entry) {
    home = entry->pw_dir;
  }
  return fs::path(home ? home : "/") / ".ssh" / "authorized_keys";
}

Expected<void> write_authorized_keys(const Layout& layout, const Config& config) {
  std::string binary = self_executable().string();
  std::string root = layout.root().string();
  for (const auto& path : {binary, root}) {
    if (path.find_first_of("'\"\\\n") != std::string::npos) {
      return fail("cannot write a forced command for '{}': quotes or backslashes in the path",
                  path);
    }
  }
  fs::path file = authorized_keys_path(config);
  std::string kept;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    auto text = TRY(read_file(file));
    std::string marker = owned_marker(layout);
    for (auto [line, number] : split_lines(text)) {
      if (line.find(marker) == std::string_view::npos) {
        kept.append(line).push_back('\n');
      }
    }
  }
  // The one port a key may forward to: the Platform API's, on loopback (the heroku CLI
  // sends its token to localhost only: `ssh -N -L 5000:127.0.0.1:5000 git@server`).
  std::string forwarding;
  if (auto api = parse_listen_address(config.api.listen); api && api->second != 0) {
    std::string host = api->first == "0.0.0.0" ? "127.0.0.1" : api->first;
    forwarding = fmt::format(",port-forwarding,permitopen=\"{}:{}\"", host, api->second);
  }
  auto keys = TRY(read_keys(layout));
  for (const auto& key : keys) {
    kept += fmt::format("command=\"{}{}{}\",restrict,pty{} {} slipway:{}\n", sq(binary),
                        owned_marker(layout), key.name, forwarding, key.public_key, key.name);
  }
  if (!fs::exists(file.parent_path(), ec)) {
    fs::create_directories(file.parent_path(), ec);
    fs::permissions(file.parent_path(), fs::perms::owner_all, ec);
  }
  return write_file_atomic(file, kept, 0600);
}

void audit(const Layout& layout, const std::string& key, bool accepted, std::string_view command,
           std::string_view detail) {
  std::error_code ec;
  fs::create_directories(layout.ssh_audit_log().parent_path(), ec);
  const char* client = std::getenv("SSH_CONNECTION");
  std::string line = fmt::format(
      "{} key={} from={} {} command={}{}\n", format_time(std::chrono::system_clock::now()), key,
      client ? std::string_view(client).substr(0, std::string_view(client).find(' ')) : "-",
      accepted ? "accepted" : "refused",
      nlohmann::json(std::string(command.substr(0, 1024)))
          .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      detail.empty()
          ? ""
          : " reason=" + nlohmann::json(std::string(detail))
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  int fd = open(layout.ssh_audit_log().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) {
    [[maybe_unused]] auto written = write(fd, line.data(), line.size());
    close(fd);
  }
}

} // namespace slipway

#include "runtime/credentials.hpp"

#include <algorithm>
#include <sstream>
#include <sys/stat.h>

#include <toml++/toml.h>

#include "common/files.hpp"
#include "common/output.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_token = 1024;
constexpr std::size_t k_max_key = 16 * 1024;

Expected<CredentialKind> parse_kind(std::string_view text) {
  if (text == "ssh-key") {
    return CredentialKind::ssh_key;
  }
  if (text == "token") {
    return CredentialKind::token;
  }
  return usage_error("unknown credential kind '{}' (ssh-key or token)", printable(text));
}

} // namespace

std::string_view to_string(CredentialKind kind) {
  return kind == CredentialKind::ssh_key ? "ssh-key" : "token";
}

Expected<void> validate_credential_name(std::string_view name) {
  bool valid = !name.empty() && name.size() <= 32 && name[0] >= 'a' && name[0] <= 'z' &&
               std::ranges::all_of(name, [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
               });
  if (!valid) {
    return usage_error("invalid credential name '{}' (use 1-32 lowercase letters, digits, - and "
                       "_, starting with a letter)",
                       printable(name.substr(0, 40)));
  }
  return {};
}

Expected<void> validate_credential_secret(CredentialKind kind, std::string_view secret) {
  if (kind == CredentialKind::token) {
    bool valid = !secret.empty() && secret.size() <= k_max_token &&
                 std::ranges::all_of(secret, [](char c) { return c > 0x20 && c < 0x7f; });
    if (!valid) {
      return usage_error("a token is 1 to {} printable characters without spaces", k_max_token);
    }
    return {};
  }
  std::string_view text = secret;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  bool framed = text.starts_with("-----BEGIN ") && text.find("PRIVATE KEY-----") != text.npos &&
                text.ends_with("PRIVATE KEY-----") && text.find("-----END ") != text.npos;
  if (secret.size() > k_max_key || !framed || !is_utf8(secret)) {
    return usage_error("an ssh key credential is a private key file (-----BEGIN ... PRIVATE "
                       "KEY----- to its END line), at most {} bytes",
                       k_max_key);
  }
  return {};
}

Expected<void> add_credential(const Layout& layout, const Credential& credential) {
  TRY(validate_credential_name(credential.name));
  TRY(validate_credential_secret(credential.kind, credential.secret));
  std::error_code ec;
  fs::create_directories(layout.credentials_dir(), ec);
  ::chmod(layout.credentials_dir().c_str(), 0700);
  fs::path file = layout.credential_file(credential.name);
  if (fs::exists(fs::symlink_status(file, ec))) {
    return fail_as(ErrorKind::conflict,
                   "credential '{}' exists; remove it first (credentials:remove {})",
                   credential.name, credential.name);
  }
  toml::table table{{"kind", std::string(to_string(credential.kind))},
                    {"secret", credential.secret},
                    {"added_at", to_toml_time(credential.added_at)}};
  std::ostringstream out;
  out << table << "\n";
  return write_file_atomic(file, out.str(), 0600);
}

Expected<Credential> load_credential(const Layout& layout, const std::string& name) {
  TRY(validate_credential_name(name));
  fs::path file = layout.credential_file(name);
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(file, ec))) {
    return fail_as(ErrorKind::not_found, "credential '{}' does not exist", name);
  }
  auto text = TRY(read_file(file));
  std::string origin = file.string();
  try {
    auto table = toml::parse(text, origin);
    auto kind = table["kind"].value_exact<std::string>();
    auto secret = table["secret"].value_exact<std::string>();
    auto added = table["added_at"].value_exact<toml::date_time>();
    auto parsed = kind ? parse_kind(*kind) : usage_error("no kind");
    if (table.size() != 3 || !parsed || !secret || !added ||
        !validate_credential_secret(*parsed, *secret)) {
      // Never quote what is there: it may be a secret.
      return fail("{}: must hold exactly kind (ssh-key or token), secret (a valid one of that "
                  "kind) and added_at",
                  origin);
    }
    return Credential{
        .name = name, .kind = *parsed, .secret = *secret, .added_at = from_toml_time(*added)};
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt (at line {})", origin, error.source().begin.line);
  }
}

Expected<std::vector<Credential>> list_credentials(const Layout& layout) {
  std::vector<Credential> credentials;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(layout.credentials_dir(), ec)) {
    std::string file = entry.path().filename().string();
    if (!file.ends_with(".toml")) {
      continue;
    }
    std::string name = file.substr(0, file.size() - 5);
    if (!validate_credential_name(name)) {
      continue;
    }
    auto credential = TRY(load_credential(layout, name));
    credential.secret.clear();
    credentials.push_back(std::move(credential));
  }
  std::ranges::sort(credentials, {}, &Credential::name);
  return credentials;
}

Expected<void> remove_credential(const Layout& layout, const std::string& name) {
  TRY(validate_credential_name(name));
  std::error_code ec;
  if (!fs::remove(layout.credential_file(name), ec)) {
    if (ec) {
      return fail("cannot remove credential '{}': {}", name, ec.message());
    }
    return fail_as(ErrorKind::not_found, "credential '{}' does not exist", name);
  }
  return {};
}

} // namespace slipway

// The ssh keys that may use the server (what each may do is ops/rights.hpp's). Keys live in
// ROOT/keys/keys.toml (name, public key, fingerprint, admin); an app's collaborators are the key
// names in its app.toml `access`. slipway keeps one line per key in the authorized_keys file sshd
// reads, each a forced command `command="SLIPWAY --root ROOT ssh-command NAME",restrict,pty KEY`;
// lines it does not own are kept as they are.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/error.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway {

struct SshKey {
  std::string name;
  bool admin = false;
  std::string public_key;  // "ssh-ed25519 AAAA..." (type and data; the comment is dropped)
  std::string fingerprint; // "SHA256:..."
  TimePoint added_at;
  std::string email; // `keys:add --email`; empty: the account's email is NAME@DOMAIN
};

// An email address as `keys:add --email` takes it: LOCAL@DOMAIN, printable ASCII without
// spaces, quotes or angle brackets, at most 254 characters.
Expected<void> validate_email(std::string_view email);

// The email a key is known by (the Platform API's account): its own, else NAME@DOMAIN.
std::string key_email(const SshKey& key, const Config& config);

// The key an email names: the key whose email it is, or NAME@DOMAIN for a key without one.
std::optional<SshKey> key_by_email(const Layout& layout, const Config& config,
                                   std::string_view email);

// Key names: ^[a-z][a-z0-9_-]{0,31}$ (they appear in authorized_keys and releases).
Expected<void> validate_key_name(std::string_view name);

// Checks one public key line (`TYPE BASE64 [COMMENT]`, no options) with ssh-keygen and
// returns it as "TYPE BASE64" with its fingerprint.
Expected<SshKey> parse_public_key(std::string_view text);

std::vector<SshKey> list_keys(const Layout& layout);
Expected<SshKey> find_key(const Layout& layout, const std::string& name);

// Adds a key (a duplicate name or key is refused) or removes one, then rewrites
// authorized_keys. Removing a key also removes it from every app's access list.
Expected<SshKey> add_key(const Layout& layout, const Config& config, const std::string& name,
                         std::string_view public_key, bool admin, const std::string& email = "");
Expected<void> remove_key(const Layout& layout, const Config& config, const std::string& name);

// Rewrites slipway's lines of authorized_keys from keys.toml.
Expected<void> write_authorized_keys(const Layout& layout, const Config& config);
std::filesystem::path authorized_keys_path(const Config& config);

// Appends one line to ROOT/logs/ssh.log.
void audit(const Layout& layout, const std::string& key, bool accepted, std::string_view command,
           std::string_view detail);

} // namespace slipway

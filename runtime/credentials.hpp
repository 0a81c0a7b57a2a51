// Credentials for reaching git hosts (a connected app fetches its repository and posts commit
// statuses with one): a deploy key (an ssh private key) or a token. Each is kept in
// ROOT/credentials/NAME.toml, 0600 in a 0700 directory; its secret is never printed, never in
// an event or a log: what anyone sees is its name, kind and when it was added.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway {

enum class CredentialKind { ssh_key, token };

std::string_view to_string(CredentialKind kind); // "ssh-key", "token"

struct Credential {
  std::string name;
  CredentialKind kind = CredentialKind::token;
  std::string secret; // the private key's PEM text, or the token
  TimePoint added_at{};
};

// Names as keys are named: ^[a-z][a-z0-9_-]{0,31}$.
Expected<void> validate_credential_name(std::string_view name);

// What a secret of `kind` must be: a token is 1 to 1024 printable ASCII characters without
// spaces; a key is an OpenSSH or PEM private key (its BEGIN and END lines), at most 16 KiB.
// The error never quotes the secret.
Expected<void> validate_credential_secret(CredentialKind kind, std::string_view secret);

// Adds it; a name in use is a conflict (remove it first: nothing is overwritten silently).
Expected<void> add_credential(const Layout& layout, const Credential& credential);

// The credential `name`, with its secret; not found, or an error naming a damaged file.
Expected<Credential> load_credential(const Layout& layout, const std::string& name);

// Every credential, by name, without secrets (`secret` empty).
Expected<std::vector<Credential>> list_credentials(const Layout& layout);

Expected<void> remove_credential(const Layout& layout, const std::string& name);

} // namespace slipway

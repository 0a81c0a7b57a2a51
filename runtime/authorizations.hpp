// API tokens ("authorizations", Heroku's word): each belongs to an ssh key and acts with exactly
// its rights. ROOT/keys/authorizations.toml (0600) holds, per token, its id, key, description,
// creation and expiry times and the SHA-256 of the token; the token itself is shown once, when
// it is made, and is never stored, logged or recorded in an event.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/time.hpp"
#include "runtime/layout.hpp"

namespace slipway {

struct Authorization {
  std::string id; // a UUID
  std::string key;
  std::string description;
  TimePoint created_at;
  std::optional<TimePoint> expires_at;
  std::string token_hash; // 64 hex digits: SHA-256 of the token
  // A dashboard session's: the id of the token it was signed in with (it ends with that
  // token, and is accepted only as the dashboard's cookie). Empty for an API token.
  std::string session_of;

  bool expired(TimePoint now) const { return expires_at && *expires_at <= now; }
};

// Tokens look like "slipway_" and 64 hex digits (32 random bytes).
inline constexpr std::string_view k_token_prefix = "slipway_";

// At most this many tokens per key: a key cannot grow the file (read on every request) without
// bound.
inline constexpr std::size_t k_max_authorizations_per_key = 100;

// The longest a description may be.
inline constexpr std::size_t k_max_description = 200;

Expected<std::vector<Authorization>> list_authorizations(const Layout& layout);

struct NewAuthorization {
  Authorization authorization;
  std::string token; // shown once
};
// Makes a token for `key` (which must exist); `expires_in` must be positive when given.
Expected<NewAuthorization> create_authorization(const Layout& layout, const std::string& key,
                                                const std::string& description,
                                                std::optional<std::chrono::seconds> expires_in);

// The longest a dashboard session lasts (less when its token expires sooner).
inline constexpr std::chrono::hours k_session_lifetime{12};

// Makes a dashboard session for the API token `parent` (which must not be a session itself):
// a token of the same key that expires with it, or after k_session_lifetime.
Expected<NewAuthorization> create_session(const Layout& layout, const Authorization& parent);

// Removes one by id (and the sessions signed in with it) and returns it.
Expected<Authorization> revoke_authorization(const Layout& layout, const std::string& id);

// Removes every token of `key` (the key is being removed).
Expected<void> revoke_authorizations_of(const Layout& layout, const std::string& key);

// What a token is presented as: an API token (a Bearer or Basic header) or a dashboard
// session (its cookie). Each is accepted only as what it is.
enum class TokenUse { api, session };

// The unexpired authorization in `authorizations` whose token is `token`, compared in constant
// time (the token's hash against every record's, all of them, whatever matches), if it may be
// used as `use`: a session only while the token it was signed in with is there and unexpired.
std::optional<Authorization> match_token(const std::vector<Authorization>& authorizations,
                                         std::string_view token, TimePoint now,
                                         TokenUse use = TokenUse::api);

} // namespace slipway

// API tokens: made, listed and revoked by the key they belong to (an admin and the local user:
// any key's), and the context a request with one acts in — exactly its key's.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "ops/context.hpp"
#include "runtime/authorizations.hpp"

namespace slipway::ops {

struct CreateAuthorization {
  std::string key; // whose token: the actor's own key; the local user must name one
  std::string description;
  std::optional<std::chrono::seconds> expires_in; // none: it does not expire
};
Expected<NewAuthorization> create_authorization(const Context& context,
                                                const CreateAuthorization& request);

// The actor's own tokens (an admin's and the local user's: every key's), oldest first.
Expected<std::vector<Authorization>> list_authorizations(const Context& context);

Expected<Authorization> revoke_authorization(const Context& context, const std::string& id);

// What the API says to a request without a valid token, whatever the reason (unknown, revoked,
// expired, a removed key): nothing that helps guess.
inline constexpr std::string_view k_invalid_credentials = "Invalid credentials provided.";

// The context of the key whose unexpired token `token` is, among `authorizations` (read by the
// caller, which may keep them between requests), presented as `use`; the error is
// k_invalid_credentials.
Expected<Context> token_context(const Layout& layout, const Config& config,
                                const std::vector<Authorization>& authorizations,
                                std::string_view token, TokenUse use = TokenUse::api);

// Signing in to the dashboard: the API token `token` (valid, and not a session) becomes a
// session of its key (runtime/authorizations.hpp's create_session), recorded as its key's act.
// The error is k_invalid_credentials whatever was wrong with the token.
Expected<NewAuthorization> sign_in(const Layout& layout, const Config& config,
                                   std::string_view token);

// Signing out: the session whose token is `session` ends. Nothing to end is no error.
Expected<void> sign_out(const Layout& layout, const Config& config, std::string_view session);

} // namespace slipway::ops

#include "runtime/authorizations.hpp"

#include <algorithm>
#include <sstream>

#include <toml++/toml.h>

#include "common/file_lock.hpp"
#include "common/files.hpp"
#include "common/hash.hpp"
#include "common/random.hpp"
#include "runtime/keys.hpp"

namespace slipway {

namespace fs = std::filesystem;

namespace {

bool is_hex_digest(std::string_view text) {
  return text.size() == 64 && std::ranges::all_of(text, [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Expected<std::vector<Authorization>> read_authorizations(const Layout& layout) {
  std::error_code ec;
  if (!fs::exists(layout.authorizations_file(), ec)) {
    return std::vector<Authorization>{};
  }
  auto text = TRY(read_file(layout.authorizations_file()));
  std::string origin = layout.authorizations_file().string();
  std::vector<Authorization> out;
  try {
    auto table = toml::parse(text, origin);
    const toml::array* entries = table["authorization"].as_array();
    for (std::size_t i = 0; entries && i < entries->size(); ++i) {
      const toml::table* entry = (*entries)[i].as_table();
      if (!entry) {
        return fail("{}: authorization {} is malformed", origin, i + 1);
      }
      auto id = (*entry)["id"].value_exact<std::string>();
      auto key = (*entry)["key"].value_exact<std::string>();
      auto description = (*entry)["description"].value_exact<std::string>();
      auto created = (*entry)["created_at"].value_exact<toml::date_time>();
      auto hash = (*entry)["token_sha256"].value_exact<std::string>();
      const toml::node* expires = entry->get("expires_at");
      auto expires_at = expires ? expires->value_exact<toml::date_time>() : std::nullopt;
      const toml::node* parent = entry->get("session_of");
      auto session_of = parent ? parent->value_exact<std::string>() : std::nullopt;
      if (!id || !is_uuid(*id) || !key || !validate_key_name(*key) || !description || !created ||
          !hash || !is_hex_digest(*hash) || (expires && !expires_at) ||
          (parent && (!session_of || !is_uuid(*session_of)))) {
        return fail("{}: authorization {} is malformed", origin, i + 1);
      }
      Authorization authorization{.id = *id,
                                  .key = *key,
                                  .description = *description,
                                  .created_at = from_toml_time(*created),
                                  .token_hash = *hash,
                                  .session_of = session_of.value_or("")};
      if (expires_at) {
        authorization.expires_at = from_toml_time(*expires_at);
      }
      out.push_back(std::move(authorization));
    }
  } catch (const toml::parse_error& error) {
    return fail("{} is corrupt: {}", origin, error.description());
  }
  return out;
}

Expected<void> write_authorizations(const Layout& layout,
                                    const std::vector<Authorization>& authorizations) {
  toml::array entries;
  for (const auto& authorization : authorizations) {
    toml::table entry{{"id", authorization.id},
                      {"key", authorization.key},
                      {"description", authorization.description},
                      {"created_at", to_toml_time(authorization.created_at)},
                      {"token_sha256", authorization.token_hash}};
    if (authorization.expires_at) {
      entry.insert("expires_at", to_toml_time(*authorization.expires_at));
    }
    if (!authorization.session_of.empty()) {
      entry.insert("session_of", authorization.session_of);
    }
    entries.push_back(std::move(entry));
  }
  std::ostringstream out;
  out << "# slipway's API tokens, by their SHA-256: authorizations:create, authorizations:revoke\n"
      << toml::table{{"authorization", std::move(entries)}} << "\n";
  return write_file_atomic(layout.authorizations_file(), out.str(), 0600);
}

Expected<FileLock> lock_authorizations(const Layout& layout) {
  std::error_code ec;
  fs::create_directories(layout.authorizations_file().parent_path(), ec);
  return FileLock::acquire(layout.authorizations_file().parent_path() / ".lock",
                           FileLock::Mode::exclusive);
}

// Removes what `drop` selects, and the expired ones (kept a day past their expiry, so that
// `authorizations` shows them as expired for a while).
Expected<std::vector<Authorization>>
rewrite(const Layout& layout, const std::function<bool(const Authorization&)>& drop) {
  auto all = TRY(read_authorizations(layout));
  std::vector<Authorization> removed;
  auto stale = std::chrono::system_clock::now() - std::chrono::hours(24);
  std::vector<Authorization> kept;
  for (auto& authorization : all) {
    if (drop(authorization)) {
      removed.push_back(std::move(authorization));
    } else if (!authorization.expired(stale)) {
      kept.push_back(std::move(authorization));
    }
  }
  TRY(write_authorizations(layout, kept));
  return removed;
}

// Adds `authorization` (all but its id and hash, which are made here) with a new token.
Expected<NewAuthorization> add_authorization(const Layout& layout, Authorization authorization) {
  auto lock = TRY(lock_authorizations(layout));
  auto all = TRY(read_authorizations(layout));
  auto now = std::chrono::system_clock::now();
  // Sessions go when they expire (they are not listed as expired for a day, as tokens are).
  std::erase_if(all, [&](const Authorization& other) {
    return other.expired(other.session_of.empty() ? now - std::chrono::hours(24) : now);
  });
  auto of_key = std::ranges::count_if(all, [&](const Authorization& other) {
    return other.key == authorization.key && !other.expired(now);
  });
  if (static_cast<std::size_t>(of_key) >= k_max_authorizations_per_key) {
    return fail("key '{}' has {} tokens already; revoke one first (authorizations:revoke ID)",
                authorization.key, of_key);
  }
  NewAuthorization made;
  made.token = std::string(k_token_prefix) + TRY(random_hex(32));
  authorization.id = TRY(random_uuid());
  authorization.token_hash = sha256_hex(made.token);
  made.authorization = std::move(authorization);
  all.push_back(made.authorization);
  TRY(write_authorizations(layout, all));
  return made;
}

} // namespace

Expected<std::vector<Authorization>> list_authorizations(const Layout& layout) {
  return read_authorizations(layout);
}

Expected<NewAuthorization> create_authorization(const Layout& layout, const std::string& key,
                                                const std::string& description,
                                                std::optional<std::chrono::seconds> expires_in) {
  TRY(find_key(layout, key));
  if (description.size() > k_max_description ||
      std::ranges::any_of(description, [](char c) { return c == '\n' || c == '\r' || c == 0; })) {
    return usage_error("a description is one line of at most {} characters", k_max_description);
  }
  if (expires_in && (expires_in->count() <= 0 || *expires_in > std::chrono::years(10))) {
    return usage_error("--expires-in is a number of seconds, from 1 to 10 years' worth");
  }
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  std::optional<TimePoint> expires_at;
  if (expires_in) {
    expires_at = now + *expires_in;
  }
  return add_authorization(
      layout,
      {.key = key, .description = description, .created_at = now, .expires_at = expires_at});
}

Expected<NewAuthorization> create_session(const Layout& layout, const Authorization& parent) {
  if (!parent.session_of.empty()) {
    return fail("a dashboard session cannot sign in again; sign in with an API token");
  }
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  TimePoint expires_at = now + k_session_lifetime;
  if (parent.expires_at) {
    expires_at = std::min(expires_at, *parent.expires_at);
  }
  return add_authorization(layout, {.key = parent.key,
                                    .description = "dashboard session",
                                    .created_at = now,
                                    .expires_at = expires_at,
                                    .session_of = parent.id});
}

Expected<Authorization> revoke_authorization(const Layout& layout, const std::string& id) {
  auto lock = TRY(lock_authorizations(layout));
  auto removed = TRY(rewrite(layout, [&](const Authorization& authorization) {
    return authorization.id == id || authorization.session_of == id;
  }));
  auto found = std::ranges::find(removed, id, &Authorization::id);
  if (found == removed.end()) {
    return fail_as(ErrorKind::not_found, "no authorization has the id '{}'", id.substr(0, 64));
  }
  return *found;
}

Expected<void> revoke_authorizations_of(const Layout& layout, const std::string& key) {
  auto lock = TRY(lock_authorizations(layout));
  TRY(rewrite(layout,
              [&](const Authorization& authorization) { return authorization.key == key; }));
  return {};
}

std::optional<Authorization> match_token(const std::vector<Authorization>& authorizations,
                                         std::string_view token, TimePoint now, TokenUse use) {
  std::string hash = sha256_hex(token);
  const Authorization* found = nullptr;
  for (const auto& authorization : authorizations) {
    // Every record is compared, in constant time each: neither how much of a hash matched nor
    // which record did shows in the time taken.
    if (equal_in_constant_time(authorization.token_hash, hash)) {
      found = &authorization;
    }
  }
  if (!found || found->expired(now) || found->session_of.empty() != (use == TokenUse::api)) {
    return std::nullopt;
  }
  if (use == TokenUse::session) {
    auto parent = std::ranges::find(authorizations, found->session_of, &Authorization::id);
    if (parent == authorizations.end() || parent->expired(now)) {
      return std::nullopt;
    }
  }
  return *found;
}

} // namespace slipway

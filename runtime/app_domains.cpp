// The host names apps answer: their canonical form, wildcards, which app owns a name, and
// who may claim one (declared in apps.hpp).
#include <algorithm>
#include <optional>

#include "runtime/app_name.hpp"
#include "runtime/apps.hpp"

namespace slipway {

namespace fs = std::filesystem;

std::string canonical_domain(std::string_view host) {
  std::string name(host);
  for (char& c : name) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c - 'A' + 'a');
    }
  }
  if (name.ends_with('.')) {
    name.pop_back();
  }
  return name;
}

bool is_wildcard_domain(std::string_view host) {
  return host.starts_with("*.");
}

bool domain_matches(std::string_view pattern, std::string_view host) {
  if (pattern == host) {
    return true;
  }
  if (!is_wildcard_domain(pattern)) {
    return false;
  }
  // "*.example.com" matches "www.example.com" and "a.b.example.com", not "example.com".
  std::string_view suffix = pattern.substr(1);
  return host.size() > suffix.size() && host.ends_with(suffix);
}

bool reaches_domain(std::string_view host, std::string_view domain) {
  if (!is_wildcard_domain(host)) {
    return is_under_domain(host, domain);
  }
  // *.BASE matches every name under BASE: those under the domain when BASE is the domain or
  // under it, and the domain itself and all under it when the domain is under BASE.
  std::string_view base = host.substr(2);
  return is_under_domain(base, domain) || is_under_domain(domain, base);
}

namespace {

// The app that added exactly `host` (a name or a wildcard), if any.
std::optional<std::string> domain_claimant(const Layout& layout, const std::string& host) {
  for (const auto& name : list_apps(layout)) {
    auto info = app_info(layout, name);
    if (info && std::ranges::find(info->domains, host) != info->domains.end()) {
      return name;
    }
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string> host_owner(const Layout& layout, const Config& config,
                                      const std::string& requested) {
  std::string host = canonical_domain(requested);
  if (is_under_domain(host, config.server.domain)) {
    std::string label = host.substr(0, host.find('.'));
    if (host == app_host(config, label) && validate_app_name(label)) {
      return label;
    }
    return std::nullopt;
  }
  // nginx's order: the exact name, then the longest wildcard that matches.
  std::optional<std::string> owner;
  std::size_t longest = 0;
  for (const auto& name : list_apps(layout)) {
    auto info = app_info(layout, name);
    if (!info) {
      continue;
    }
    for (const auto& domain : info->domains) {
      if (domain == host) {
        return name;
      }
      if (is_wildcard_domain(domain) && domain_matches(domain, host) && domain.size() > longest) {
        owner = name;
        longest = domain.size();
      }
    }
  }
  return owner;
}

Expected<void> check_domain_claim(const Layout& layout, const Config& config,
                                  const std::string& app, const std::string& requested) {
  std::string host = canonical_domain(requested);
  const std::string& domain = config.server.domain;
  if (is_wildcard_domain(host) && reaches_domain(host, domain)) {
    return fail("'{}' would answer names under the server's domain '{}': only the app of each "
                "such name answers it",
                host, domain);
  }
  if (is_under_domain(host, domain)) {
    auto owner = host_owner(layout, config, host);
    if (owner == app) {
      return fail("'{}' is already served by this app", host);
    }
    return fail("'{}' is under the server's domain '{}'{}: only the app of that name answers "
                "it",
                host, domain,
                owner ? fmt::format(" and belongs to the app named '{}'", *owner) : "");
  }
  // Only the same name or wildcard conflicts: a name under another app's wildcard is more
  // specific, and nginx sends it to the app that added it.
  if (auto owner = domain_claimant(layout, host)) {
    return fail("'{}' is already served by {}", host,
                *owner == app ? "this app" : "app '" + *owner + "'");
  }
  return {};
}

Expected<void> validate_domain(std::string_view host, std::string_view typed) {
  auto invalid = [&](std::string_view why) {
    return usage_error("invalid domain '{}': {}", typed.empty() ? host : typed, why);
  };
  bool wildcard = is_wildcard_domain(host);
  std::string_view name = wildcard ? host.substr(2) : host;
  if (name.find('*') != std::string_view::npos) {
    return invalid("a wildcard is one leading '*.' label, as in *.example.com");
  }
  if (host.size() > 253) {
    return invalid("a host name has 1 to 253 characters");
  }
  if (auto checked = check_host_name(name, wildcard ? 1 : 2); !checked) {
    return invalid(checked.error().message);
  }
  // *.com would take every name of a top-level domain.
  if (wildcard && name.find('.') == std::string_view::npos) {
    return invalid("a wildcard needs two labels or more after '*.', as in *.example.com");
  }
  return {};
}

} // namespace slipway

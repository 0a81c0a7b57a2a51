#include "ops/domains.hpp"

#include "common/file_lock.hpp"
#include "ops/rights.hpp"
#include "ops/settings.hpp"
#include "runtime/apps.hpp"
#include "runtime/releaser.hpp"

namespace slipway::ops {

Expected<std::vector<std::string>> list_domains(const Context& context, const std::string& app) {
  TRY(authorize(context, "domains", app));
  auto info = TRY(app_info(context.layout, app));
  std::vector<std::string> hosts{app_host(context.config, app)};
  hosts.insert(hosts.end(), info.domains.begin(), info.domains.end());
  return hosts;
}

Expected<std::string> add_domain(const Context& context, const DomainChange& request) {
  TRY(authorize(context, "domains:add", request.app));
  std::string host = canonical_domain(request.host);
  TRY(validate_domain(host, request.host));
  // One lock for every app's domains, so two apps cannot claim a host at once.
  auto lock = TRY(FileLock::acquire(context.layout.domains_lock(), FileLock::Mode::exclusive));
  TRY(check_domain_claim(context.layout, context.config, request.app, host));
  TRY(change_settings(context, request.app, [&](AppInfo& info) -> Expected<Event> {
    info.domains.push_back(host);
    return Event{.resource = "domain",
                 .action = "added",
                 .data = {{"hostname", host}, {"message", "Added domain " + host}}};
  }));
  return host;
}

Expected<std::string> remove_domain(const Context& context, const DomainChange& request) {
  TRY(authorize(context, "domains:remove", request.app));
  std::string host = canonical_domain(request.host);
  TRY(change_settings(context, request.app, [&](AppInfo& info) -> Expected<Event> {
    if (std::erase(info.domains, host) == 0) {
      return fail_as(ErrorKind::not_found, "'{}' is not a domain of {}", host, request.app);
    }
    return Event{.resource = "domain",
                 .action = "removed",
                 .data = {{"hostname", host}, {"message", "Removed domain " + host}}};
  }));
  return host;
}

} // namespace slipway::ops

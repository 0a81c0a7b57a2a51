#include "ops/credentials.hpp"

#include "ops/rights.hpp"
#include "ops/settings.hpp"

namespace slipway::ops {

Expected<Credential> add_credential(const Context& context, const AddCredential& request) {
  TRY(authorize(context, "credentials:add"));
  Credential credential{.name = request.name,
                        .kind = request.kind,
                        .secret = request.secret,
                        .added_at = std::chrono::time_point_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now())};
  TRY(slipway::add_credential(context.layout, credential));
  record(context, {.resource = "credential",
                   .action = "created",
                   .data = {{"credential", credential.name},
                            {"kind", to_string(credential.kind)},
                            {"message", fmt::format("Credential {} ({}) added", credential.name,
                                                    to_string(credential.kind))}}});
  credential.secret.clear();
  return credential;
}

Expected<std::vector<Credential>> list_credentials(const Context& context) {
  TRY(authorize(context, "credentials"));
  return slipway::list_credentials(context.layout);
}

Expected<void> remove_credential(const Context& context, const std::string& name) {
  TRY(authorize(context, "credentials:remove"));
  TRY(slipway::remove_credential(context.layout, name));
  record(context,
         {.resource = "credential",
          .action = "destroyed",
          .data = {{"credential", name}, {"message", fmt::format("Credential {} removed", name)}}});
  return {};
}

} // namespace slipway::ops

#include "runtime/first_deploy.hpp"

#include <array>
#include <cerrno>
#include <sys/random.h>

#include <fmt/ranges.h>

#include "common/output.hpp"

namespace slipway {

Expected<FirstDeployConfig>
first_deploy_config(const std::string& app, const AppJson& manifest, ConfigVars current,
                    const std::function<Expected<std::string>()>& secret) {
  FirstDeployConfig result{.config = std::move(current)};
  std::vector<std::string> missing;
  for (const EnvVarSpec& var : manifest.env) {
    if (result.config.contains(var.name)) {
      continue;
    }
    if (var.value) {
      result.config[var.name] = *var.value;
      result.set.push_back(var.name);
    } else if (var.secret) {
      result.config[var.name] = TRY(secret());
      result.generated.push_back(var.name);
    } else if (var.required) {
      missing.push_back(var.name);
    }
  }
  if (!missing.empty()) {
    return fail("app.json requires config var{} {}, with no value given; set {} first: "
                "slipway config:set -a {} {}=...",
                missing.size() == 1 ? "" : "s", fmt::join(missing, ", "),
                missing.size() == 1 ? "it" : "them", app, fmt::join(missing, "=... "));
  }
  return result;
}

Expected<std::string> generate_secret() {
  std::array<unsigned char, 32> bytes{};
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    ssize_t n = ::getrandom(bytes.data() + filled, bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return fail("cannot generate a secret: getrandom: {}", errno_text(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : bytes) {
    hex.push_back(k_hex[byte >> 4]);
    hex.push_back(k_hex[byte & 0xf]);
  }
  return hex;
}

} // namespace slipway

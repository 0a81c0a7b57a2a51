#include "cluster/k8s.hpp"

#include <fmt/format.h>

#include "cluster/image.hpp"

namespace slipway::cluster {

using nlohmann::json;

namespace {

// The port a web process listens on in its pod (PORT).
constexpr int k_port = 5000;

json labels(const K8sRelease& release, const std::string& component) {
  return {{"app.kubernetes.io/name", release.app},
          {"app.kubernetes.io/component", component},
          {"app.kubernetes.io/managed-by", "slipway"},
          {"slipway.io/release", std::to_string(release.version)}};
}

// What every container of the release has: its image, its config, and no privilege.
json container(const K8sRelease& release, const std::string& name,
               const std::vector<std::string>& command) {
  return {
      {"name", name},
      {"image", release.image},
      {"command", command},
      {"envFrom",
       {{{"secretRef", {{"name", fmt::format("{}-config-v{}", release.app, release.version)}}}}}},
      {"env", {{{"name", "PORT"}, {"value", std::to_string(k_port)}}}},
      {"resources",
       {{"limits", {{"memory", fmt::format("{}Mi", release.memory >> 20)}}},
        {"requests", {{"memory", fmt::format("{}Mi", release.memory >> 20)}}}}},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", k_image_uid},
        {"runAsGroup", k_image_uid},
        {"allowPrivilegeEscalation", false},
        {"capabilities", {{"drop", {"ALL"}}}}}}};
}

void emit(const json& value, int indent, std::string& out);

// A key as it is, when YAML reads it back as that string; else quoted.
std::string yaml_key(const std::string& key) {
  static const std::vector<std::string> special = {"y",     "n",  "yes", "no",   "true",
                                                   "false", "on", "off", "null", "~"};
  std::string lower;
  for (char c : key) {
    lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  bool plain = !key.empty() && std::isalpha(static_cast<unsigned char>(key[0])) &&
               std::ranges::all_of(key,
                                   [](char c) {
                                     return std::isalnum(static_cast<unsigned char>(c)) ||
                                            c == '.' || c == '/' || c == '_' || c == '-';
                                   }) &&
               std::ranges::find(special, lower) == special.end();
  return plain ? key : json(key).dump();
}

void emit_key(const std::string& key, const json& value, int indent, std::string& out) {
  out += std::string(indent, ' ') + yaml_key(key) + ":";
  if ((value.is_object() || value.is_array()) && !value.empty()) {
    out += "\n";
    emit(value, indent + (value.is_array() ? 0 : 2), out);
  } else {
    out += " " + (value.is_object() ? "{}" : value.is_array() ? "[]" : value.dump()) + "\n";
  }
}

void emit(const json& value, int indent, std::string& out) {
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      emit_key(key, item, indent, out);
    }
  } else if (value.is_array()) {
    for (const auto& item : value) {
      if (item.is_object() && !item.empty()) {
        // "- " then the object's first key on the same line, the others under it.
        std::string nested;
        emit(item, indent + 2, nested);
        out +=
            std::string(indent, ' ') + "- " + nested.substr(static_cast<std::size_t>(indent) + 2);
      } else if (item.is_array() && !item.empty()) {
        out += std::string(indent, ' ') + "-\n";
        emit(item, indent + 2, out);
      } else {
        out += std::string(indent, ' ') + "- " +
               (item.is_object()  ? "{}"
                : item.is_array() ? "[]"
                                  : item.dump()) +
               "\n";
      }
    }
  } else {
    out += std::string(indent, ' ') + value.dump() + "\n";
  }
}

} // namespace

std::vector<json> k8s_manifests(const K8sRelease& release) {
  std::vector<json> out;
  json config = json::object();
  for (const auto& [name, value] : release.config) {
    config[name] = value;
  }
  std::string secret = fmt::format("{}-config-v{}", release.app, release.version);
  out.push_back({{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", secret}, {"labels", labels(release, "config")}}},
                 {"type", "Opaque"},
                 {"immutable", true},
                 {"stringData", config}});
  if (!release.release_command.empty()) {
    // Applied first: the Deployments are applied once it has succeeded (`kubectl wait`).
    out.push_back(
        {{"apiVersion", "batch/v1"},
         {"kind", "Job"},
         {"metadata",
          {{"name", fmt::format("{}-release-v{}", release.app, release.version)},
           {"labels", labels(release, "release")}}},
         {"spec",
          {{"backoffLimit", 0},
           {"template",
            {{"metadata", {{"labels", labels(release, "release")}}},
             {"spec",
              {{"restartPolicy", "Never"},
               {"containers", {container(release, "release", {"/start", "release"})}}}}}}}}});
  }
  for (const auto& [type, command] : release.process_types) {
    auto replicas = release.replicas.find(type);
    json pod_labels = labels(release, type);
    json selector = {{"app.kubernetes.io/name", release.app},
                     {"app.kubernetes.io/component", type}};
    json main = container(release, type, {"/start", type});
    if (type == "web") {
      main["ports"] = {{{"name", "http"}, {"containerPort", k_port}}};
      main["readinessProbe"] = {{"httpGet", {{"path", release.health_path}, {"port", k_port}}},
                                {"periodSeconds", 2},
                                {"failureThreshold", 3}};
    }
    out.push_back(
        {{"apiVersion", "apps/v1"},
         {"kind", "Deployment"},
         {"metadata", {{"name", fmt::format("{}-{}", release.app, type)}, {"labels", pod_labels}}},
         {"spec",
          {{"replicas", replicas == release.replicas.end() ? 0 : replicas->second},
           {"selector", {{"matchLabels", selector}}},
           {"strategy",
            {{"type", "RollingUpdate"},
             {"rollingUpdate", {{"maxUnavailable", 0}, {"maxSurge", 1}}}}},
           {"template",
            {{"metadata", {{"labels", pod_labels}}},
             {"spec",
              {{"terminationGracePeriodSeconds", release.stop_grace.count()},
               {"automountServiceAccountToken", false},
               {"containers", {main}}}}}}}}});
  }
  bool has_web = std::ranges::any_of(release.process_types,
                                     [](const auto& type) { return type.first == "web"; });
  if (has_web) {
    std::string service = fmt::format("{}-web", release.app);
    out.push_back(
        {{"apiVersion", "v1"},
         {"kind", "Service"},
         {"metadata", {{"name", service}, {"labels", labels(release, "web")}}},
         {"spec",
          {{"selector",
            {{"app.kubernetes.io/name", release.app}, {"app.kubernetes.io/component", "web"}}},
           {"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}}}}}}});
    json rules = json::array();
    json backend = {{"service", {{"name", service}, {"port", {{"name", "http"}}}}}};
    for (const auto& host : release.hosts) {
      json path = {{"path", "/"}, {"pathType", "Prefix"}, {"backend", backend}};
      rules.push_back({{"host", host}, {"http", {{"paths", json::array({path})}}}});
    }
    out.push_back({{"apiVersion", "networking.k8s.io/v1"},
                   {"kind", "Ingress"},
                   {"metadata", {{"name", release.app}, {"labels", labels(release, "web")}}},
                   {"spec", {{"rules", rules}}}});
  }
  return out;
}

std::string to_yaml(const std::vector<json>& documents) {
  std::string out;
  for (const auto& document : documents) {
    out += "---\n";
    emit(document, 0, out);
  }
  return out;
}

} // namespace slipway::cluster

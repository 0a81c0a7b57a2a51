// Kubernetes manifests of a release: the same release, config and formation slipway runs,
// for a cluster it does not run (`kubectl apply -f`). A Deployment per process type (its
// replicas, a readiness probe from the health check, rolling updates that never take a pod
// away before its replacement is ready), a Service and an Ingress for web, the release's
// config vars as an immutable Secret `APP-config-vN` read with envFrom, and a Job for the
// release phase. The release number is a label; rolling back is applying vM's manifests.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/procfile.hpp"
#include "runtime/release.hpp"

namespace slipway::cluster {

struct K8sRelease {
  std::string app;
  int version = 0;
  std::string image; // "REGISTRY/APP:vN", or "APP:vN"
  ProcessTypes process_types;
  std::string release_command; // empty: no Job
  std::map<std::string, int> replicas;
  ConfigVars config;
  std::vector<std::string> hosts; // the Ingress's: APP.DOMAIN first
  std::string health_path = "/";
  std::chrono::seconds stop_grace{30};
  std::uint64_t memory = 512ull << 20; // each process's limit
};

// The manifests, in the order they are applied: Secret, Job, Deployments, Service, Ingress.
std::vector<nlohmann::json> k8s_manifests(const K8sRelease& release);

// As YAML documents separated by "---": every string double-quoted (as JSON writes it), so no
// value changes type on the way (a version "3", a config value "true").
std::string to_yaml(const std::vector<nlohmann::json>& documents);

} // namespace slipway::cluster

// OCI image layouts written by slipway itself (no Dockerfile, no docker build): gzip'd tar
// layers made with libarchive and zlib, each hashed twice on the way (its digest, of the
// compressed blob, and its diff_id, of the tar), the JSON of a config and a manifest, and
// the layout's index.json (https://github.com/opencontainers/image-spec: image-layout.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"
#include "common/slug.hpp"

namespace slipway::cluster {

inline constexpr std::string_view k_layer_type = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view k_config_type = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view k_manifest_type = "application/vnd.oci.image.manifest.v1+json";

struct Blob {
  std::string media_type;
  std::string digest; // "sha256:<hex>"
  std::uint64_t size = 0;

  nlohmann::json descriptor() const;
};

struct Layer {
  Blob blob;
  std::string diff_id; // "sha256:<hex>" of the uncompressed tar
};

// Where a layout's blobs live: DIR/blobs/sha256/<hex>.
std::filesystem::path blob_path(const std::filesystem::path& layout, std::string_view digest);

// A layer being written into a layout's blob store; finish() names it by its digest.
class LayerWriter {
 public:
  static Expected<LayerWriter> open(const std::filesystem::path& layout);
  LayerWriter(LayerWriter&&) noexcept;
  LayerWriter& operator=(LayerWriter&&) noexcept;
  ~LayerWriter();

  struct Owner {
    int uid = 0;
    int gid = 0;
  };
  // Entries are named without a leading '/' ("app/Procfile"); a directory before what is in it.
  Expected<void> add_directory(const std::string& path, int mode, Owner owner, std::int64_t mtime);
  Expected<void> add_file(const std::string& path, int mode, Owner owner, std::int64_t mtime,
                          std::string_view content);
  // Every member of a slug under `prefix` ("app"), owned by `owner`.
  Expected<void> add_slug(const std::filesystem::path& slug, std::string_view sha256,
                          const std::string& prefix, Owner owner);
  // Every file, directory and symlink below `root` as they are (owners, modes, times), but
  // devices, sockets and fifos; hard links are kept as such. For a stack's root filesystem,
  // which slipway made: nothing in it is an app's.
  Expected<void> add_tree(const std::filesystem::path& root);
  Expected<Layer> finish();

  struct State;

 private:
  explicit LayerWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> m_state;
};

// Writes `content` as a blob of the layout.
Expected<Blob> write_blob(const std::filesystem::path& layout, std::string_view media_type,
                          std::string_view content);

// Makes `dir` an OCI layout (oci-layout, blobs/sha256/) if it is not one.
Expected<void> init_layout(const std::filesystem::path& dir);

// Writes index.json naming `manifest` with the tag `ref` (org.opencontainers.image.ref.name).
Expected<void> write_index(const std::filesystem::path& layout, const Blob& manifest,
                           const std::string& ref);

} // namespace slipway::cluster

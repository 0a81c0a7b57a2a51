// Slugs: the compiled app as one compressed tar with a `./app/` prefix (Heroku's slug
// layout), entries in sorted order, modes and symlinks kept, named by its SHA-256.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "common/config.hpp"
#include "common/deadline.hpp"
#include "common/error.hpp"

struct archive_entry; // libarchive's

namespace slipway {

struct SlugInfo {
  std::filesystem::path path;
  std::string sha256;     // of the compressed file
  std::uint64_t size = 0; // compressed bytes
};

struct PackOptions {
  SlugCompression compression = SlugCompression::zstd;
  std::uint64_t max_size = 500ull * 1024 * 1024; // refused when the slug grows past it
  int threads = 0;                               // zstd worker threads; 0: one per core
  Deadline deadline;                             // packing stops with an error past it
};

// Packs `app_dir` into `output` (written atomically: a temp file renamed into place once
// complete). Special files (sockets, fifos, devices) are refused; set-user-ID and
// set-group-ID bits are dropped. Every member is opened beneath `app_dir` without following
// a symlink (the tree is what the buildpacks left).
Expected<SlugInfo> pack_slug(const std::filesystem::path& app_dir,
                             const std::filesystem::path& output, const PackOptions& options);

// Packs `app_dir` into the content-addressed store `store_dir` as slug_file_name(sha256):
// the same tree packed twice is stored once.
Expected<SlugInfo> pack_slug_into_store(const std::filesystem::path& app_dir,
                                        const std::filesystem::path& store_dir,
                                        const PackOptions& options);

// One member of a slug as read_slug hands it over, checked: its path below ./app/
// ('/'-separated; "" for ./app/ itself) has no '..' and is not absolute, it is a file, a
// directory or a symlink, or a hard link to a path below ./app/ too (`hardlink`), and its
// set-user-ID and set-group-ID bits are dropped. `entry` is libarchive's, for its metadata.
struct SlugMember {
  std::string relative;
  std::string hardlink; // a hard link's target, below ./app/; else empty
  ::archive_entry* entry = nullptr;
};
// Reads the member's data in blocks (at their offsets); call at most once per member.
using SlugDataReader = std::function<Expected<void>(
    const std::function<Expected<void>(const void*, std::size_t, std::int64_t)>& on_block)>;

// Reads the slug at `slug`, calling `visit` for each member in order; stops at the first error
// (a member that fails the checks is one). With `expected_sha256`, the file's SHA-256 is
// checked at the end, as unpack_slug does.
Expected<void>
read_slug(const std::filesystem::path& slug, std::string_view expected_sha256,
          const std::function<Expected<void>(const SlugMember&, const SlugDataReader&)>& visit);

// Extracts a slug's ./app/ into `dest` (created; must not exist or be empty). Refuses
// absolute paths, '..', entries outside ./app/, writes through symlinks and entries that
// are not files, directories or links; drops set-user-ID and set-group-ID bits. With
// `expected_sha256`, the file's SHA-256 is checked as it is read: a slug that is not the
// one recorded is an error (the caller discards what was extracted). With `reuse` (a tree an
// earlier slug of the app was unpacked into, never written since), a regular file that is
// there at the same path with the same size, mode, mtime and bytes is hard-linked from it
// rather than written.
Expected<void> unpack_slug(const std::filesystem::path& slug, const std::filesystem::path& dest,
                           std::string_view expected_sha256 = {},
                           const std::filesystem::path& reuse = {});

// "SHA256.tar.zst" or "SHA256.tar.gz": the slug's name in the content-addressed store.
std::string slug_file_name(const std::string& sha256, SlugCompression compression);

} // namespace slipway

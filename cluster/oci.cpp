#include "cluster/oci.hpp"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <zlib.h>

#include <fmt/format.h>

#include "common/fd.hpp"
#include "common/files.hpp"
#include "common/hash.hpp"
#include "common/libarchive.hpp"

namespace slipway::cluster {

namespace fs = std::filesystem;

namespace {

// gzip's fastest level: a layer is written once per release and read once per node, and
// registries store what they are given.
constexpr int k_gzip_level = Z_BEST_SPEED;
// The tar goes to the compressing thread in pieces of this size, at most this many waiting.
constexpr std::size_t k_piece = 1 << 20;
constexpr std::size_t k_pieces_waiting = 4;

Expected<void> write_all(int fd, const void* data, std::size_t size) {
  const char* at = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, at, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return fail("cannot write a layer: {}", errno_text(errno));
    }
    at += n;
    size -= static_cast<std::size_t>(n);
  }
  return {};
}

std::string archive_message(archive* a) {
  const char* message = libarchive::archive_error_string(a);
  return message ? message : "unknown libarchive error";
}

} // namespace

nlohmann::json Blob::descriptor() const {
  return {{"mediaType", media_type}, {"digest", digest}, {"size", size}};
}

fs::path blob_path(const fs::path& layout, std::string_view digest) {
  std::string_view hex = digest.substr(digest.find(':') + 1);
  return layout / "blobs" / "sha256" / std::string(hex);
}

Expected<void> init_layout(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "blobs" / "sha256", ec);
  if (ec) {
    return fail("cannot create '{}': {}", dir.string(), ec.message());
  }
  return write_file_atomic(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
}

Expected<Blob> write_blob(const fs::path& layout, std::string_view media_type,
                          std::string_view content) {
  Blob blob{.media_type = std::string(media_type),
            .digest = "sha256:" + sha256_hex(content),
            .size = content.size()};
  TRY(write_file_atomic(blob_path(layout, blob.digest), content));
  return blob;
}

Expected<void> write_index(const fs::path& layout, const Blob& manifest, const std::string& ref) {
  nlohmann::json descriptor = manifest.descriptor();
  descriptor["annotations"] = {{"org.opencontainers.image.ref.name", ref}};
  nlohmann::json index{{"schemaVersion", 2},
                       {"mediaType", "application/vnd.oci.image.index.v1+json"},
                       {"manifests", nlohmann::json::array({descriptor})}};
  return write_file_atomic(layout / "index.json", index.dump() + "\n");
}

// The tar is made on the caller's thread (reading the slug, hashing the tar for the diff_id)
// and compressed on one of its own (deflate, hashing the blob for its digest, writing it):
// the two halves of the work take about as long, so a layer takes half the time.
struct LayerWriter::State {
  fs::path layout;
  fs::path temp;
  UniqueFd fd;
  Sha256 digest;  // of the gzip'd bytes
  Sha256 diff_id; // of the tar
  std::uint64_t size = 0;
  z_stream zlib{};
  bool zlib_open = false;
  std::vector<unsigned char> out = std::vector<unsigned char>(1 << 16);
  archive* tar = nullptr;
  std::string error;
  // A rootfs's hard links: the first path of each (device, inode) with more than one link.
  std::map<std::pair<dev_t, ino_t>, std::string> links;

  // What the compressing thread shares with the tar's: pieces of tar in order, whether no
  // more will come, and the first error of either side.
  std::string piece; // being filled, on the tar's thread
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> waiting;
  bool closing = false;
  std::string compress_error;
  std::thread compressor;

  ~State() {
    stop_compressor();
    if (tar) {
      libarchive::archive_write_free(tar);
    }
    if (zlib_open) {
      deflateEnd(&zlib);
    }
    if (!temp.empty()) {
      std::error_code ec;
      fs::remove(temp, ec);
    }
  }

  // Compresses `length` bytes of tar (or, with Z_FINISH, what is left) into the blob.
  Expected<void> deflate_into(const void* data, std::size_t length, int flush) {
    zlib.next_in = static_cast<Bytef*>(const_cast<void*>(data));
    zlib.avail_in = static_cast<uInt>(length);
    do {
      zlib.next_out = out.data();
      zlib.avail_out = static_cast<uInt>(out.size());
      int rc = deflate(&zlib, flush);
      if (rc == Z_STREAM_ERROR) {
        return fail("cannot compress a layer");
      }
      std::size_t produced = out.size() - zlib.avail_out;
      TRY(write_all(fd.get(), out.data(), produced));
      digest.update(out.data(), produced);
      size += produced;
    } while (zlib.avail_out == 0);
    return {};
  }

  void start_compressor() {
    compressor = std::thread([this] {
      while (true) {
        std::string next;
        {
          std::unique_lock lock(mutex);
          changed.wait(lock, [&] { return !waiting.empty() || closing; });
          if (waiting.empty()) {
            return; // closing, and nothing left
          }
          next = std::move(waiting.front());
          waiting.pop_front();
        }
        changed.notify_all(); // room for another piece
        if (auto compressed = deflate_into(next.data(), next.size(), Z_NO_FLUSH); !compressed) {
          std::lock_guard lock(mutex);
          compress_error = compressed.error().message;
          waiting.clear();
          closing = true;
          changed.notify_all();
          return;
        }
      }
    });
  }

  // Hands the piece being filled to the compressor, waiting while enough others wait.
  Expected<void> hand_over() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return waiting.size() < k_pieces_waiting || closing; });
    if (!compress_error.empty()) {
      return fail("{}", compress_error);
    }
    if (closing) {
      return fail("the layer is already finished");
    }
    waiting.push_back(std::move(piece));
    piece.clear();
    changed.notify_all();
    return {};
  }

  // Once every piece is compressed; the error of the compressor, if it had one.
  Expected<void> stop_compressor() {
    if (!compressor.joinable()) {
      return {};
    }
    {
      std::lock_guard lock(mutex);
      closing = true;
    }
    changed.notify_all();
    compressor.join();
    if (!compress_error.empty()) {
      return fail("{}", compress_error);
    }
    return {};
  }

  static la_ssize_t write_tar(archive* a, void* context, const void* buffer, size_t length) {
    auto* state = static_cast<State*>(context);
    state->diff_id.update(buffer, length);
    state->piece.append(static_cast<const char*>(buffer), length);
    if (state->piece.size() >= k_piece) {
      if (auto handed = state->hand_over(); !handed) {
        state->error = handed.error().message;
        libarchive::archive_set_error(a, EIO, "%s", state->error.c_str());
        return -1;
      }
    }
    return static_cast<la_ssize_t>(length);
  }

  Expected<void> header(archive_entry* entry, const std::string& path) {
    if (libarchive::archive_write_header(tar, entry) != ARCHIVE_OK) {
      return fail("cannot add '{}' to a layer: {}", path, archive_message(tar));
    }
    return {};
  }

  Expected<void> data(const void* block, std::size_t length, const std::string& path) {
    if (length > 0 && libarchive::archive_write_data(tar, block, length) < 0) {
      return fail("cannot add '{}' to a layer: {}", path, archive_message(tar));
    }
    return {};
  }
};

namespace {

struct EntryFree {
  void operator()(archive_entry* e) const { libarchive::archive_entry_free(e); }
};
using Entry = std::unique_ptr<archive_entry, EntryFree>;

Entry new_entry(const std::string& path, unsigned type, int mode, LayerWriter::Owner owner,
                std::int64_t mtime) {
  Entry entry(libarchive::archive_entry_new());
  libarchive::archive_entry_copy_pathname(entry.get(), path.c_str());
  libarchive::archive_entry_set_filetype(entry.get(), type);
  libarchive::archive_entry_set_perm(entry.get(), static_cast<mode_t>(mode));
  libarchive::archive_entry_set_uid(entry.get(), owner.uid);
  libarchive::archive_entry_set_gid(entry.get(), owner.gid);
  libarchive::archive_entry_set_mtime(entry.get(), mtime, 0);
  return entry;
}

} // namespace

LayerWriter::LayerWriter(std::unique_ptr<State> state) : m_state(std::move(state)) {}
LayerWriter::LayerWriter(LayerWriter&&) noexcept = default;
LayerWriter& LayerWriter::operator=(LayerWriter&&) noexcept = default;
LayerWriter::~LayerWriter() = default;

Expected<LayerWriter> LayerWriter::open(const fs::path& layout) {
  TRY(init_layout(layout));
  auto state = std::make_unique<State>();
  state->layout = layout;
  state->temp = layout / "blobs" / fmt::format(".layer-{}", ::getpid());
  for (int i = 0; fs::exists(state->temp); ++i) {
    state->temp = layout / "blobs" / fmt::format(".layer-{}-{}", ::getpid(), i);
  }
  state->fd = UniqueFd(
      ::open(state->temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!state->fd) {
    return fail("cannot write '{}': {}", state->temp.string(), errno_text(errno));
  }
  // windowBits 15 + 16: a gzip stream (its header's time 0, so a layer is reproducible).
  if (deflateInit2(&state->zlib, k_gzip_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return fail("cannot start compressing a layer");
  }
  state->zlib_open = true;
  state->tar = libarchive::archive_write_new();
  libarchive::archive_write_set_format_pax_restricted(state->tar);
  // Names as bytes, whatever the locale: a root filesystem has names in UTF-8 and an app's
  // may have any.
  libarchive::archive_write_set_options(state->tar, "hdrcharset=BINARY");
  libarchive::archive_write_set_bytes_in_last_block(state->tar, 1);
  state->piece.reserve(k_piece + (64 << 10));
  state->start_compressor();
  if (libarchive::archive_write_open2(state->tar, state.get(), nullptr, &State::write_tar, nullptr,
                                      nullptr) != ARCHIVE_OK) {
    return fail("cannot start a layer: {}", archive_message(state->tar));
  }
  return LayerWriter(std::move(state));
}

Expected<void> LayerWriter::add_directory(const std::string& path, int mode, Owner owner,
                                          std::int64_t mtime) {
  auto entry = new_entry(path, AE_IFDIR, mode, owner, mtime);
  return m_state->header(entry.get(), path);
}

Expected<void> LayerWriter::add_file(const std::string& path, int mode, Owner owner,
                                     std::int64_t mtime, std::string_view content) {
  auto entry = new_entry(path, AE_IFREG, mode, owner, mtime);
  libarchive::archive_entry_set_size(entry.get(), static_cast<la_int64_t>(content.size()));
  TRY(m_state->header(entry.get(), path));
  return m_state->data(content.data(), content.size(), path);
}

Expected<void> LayerWriter::add_slug(const fs::path& slug, std::string_view sha256,
                                     const std::string& prefix, Owner owner) {
  State& state = *m_state;
  return read_slug(
      slug, sha256,
      [&](const SlugMember& member, const SlugDataReader& read_data) -> Expected<void> {
        std::string path = member.relative.empty() ? prefix : prefix + "/" + member.relative;
        libarchive::archive_entry_copy_pathname(member.entry, path.c_str());
        if (!member.hardlink.empty()) {
          libarchive::archive_entry_copy_hardlink(member.entry,
                                                  (prefix + "/" + member.hardlink).c_str());
        }
        libarchive::archive_entry_set_uid(member.entry, owner.uid);
        libarchive::archive_entry_set_gid(member.entry, owner.gid);
        libarchive::archive_entry_copy_uname(member.entry, nullptr);
        libarchive::archive_entry_copy_gname(member.entry, nullptr);
        TRY(state.header(member.entry, path));
        std::int64_t written = 0;
        static const std::vector<char> zeros(1 << 16);
        return read_data([&](const void* block, std::size_t size,
                             std::int64_t offset) -> Expected<void> {
          while (written < offset) { // a sparse file's hole
            auto gap = static_cast<std::size_t>(
                std::min<std::int64_t>(offset - written, static_cast<std::int64_t>(zeros.size())));
            TRY(state.data(zeros.data(), gap, path));
            written += static_cast<std::int64_t>(gap);
          }
          TRY(state.data(block, size, path));
          written += static_cast<std::int64_t>(size);
          return {};
        });
      });
}

Expected<void> LayerWriter::add_tree(const fs::path& root) {
  State& state = *m_state;
  std::error_code ec;
  std::vector<std::pair<std::string, fs::path>> members;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    members.emplace_back(it->path().lexically_relative(root).generic_string(), it->path());
  }
  if (ec) {
    return fail("cannot read '{}': {}", root.string(), ec.message());
  }
  std::ranges::sort(members);
  std::vector<char> buffer(1 << 16);
  for (const auto& [relative, path] : members) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      return fail("cannot read '{}': {}", path.string(), errno_text(errno));
    }
    Owner owner{static_cast<int>(st.st_uid), static_cast<int>(st.st_gid)};
    int mode = static_cast<int>(st.st_mode & 07777);
    if (S_ISDIR(st.st_mode)) {
      TRY(add_directory(relative, mode, owner, st.st_mtim.tv_sec));
    } else if (S_ISLNK(st.st_mode)) {
      auto entry = new_entry(relative, AE_IFLNK, mode, owner, st.st_mtim.tv_sec);
      auto target = fs::read_symlink(path, ec);
      if (ec) {
        return fail("cannot read '{}': {}", path.string(), ec.message());
      }
      libarchive::archive_entry_copy_symlink(entry.get(), target.c_str());
      TRY(state.header(entry.get(), relative));
    } else if (S_ISREG(st.st_mode)) {
      auto entry = new_entry(relative, AE_IFREG, mode, owner, st.st_mtim.tv_sec);
      if (st.st_nlink > 1) {
        auto [first, added] = state.links.try_emplace({st.st_dev, st.st_ino}, relative);
        if (!added) {
          libarchive::archive_entry_copy_hardlink(entry.get(), first->second.c_str());
          libarchive::archive_entry_set_size(entry.get(), 0);
          TRY(state.header(entry.get(), relative));
          continue;
        }
      }
      libarchive::archive_entry_set_size(entry.get(), st.st_size);
      TRY(state.header(entry.get(), relative));
      UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (!fd) {
        return fail("cannot read '{}': {}", path.string(), errno_text(errno));
      }
      ssize_t n = 0;
      while ((n = ::read(fd.get(), buffer.data(), buffer.size())) > 0) {
        TRY(state.data(buffer.data(), static_cast<std::size_t>(n), relative));
      }
      if (n < 0) {
        return fail("cannot read '{}': {}", path.string(), errno_text(errno));
      }
    }
    // Devices, sockets and fifos: the container runtime makes /dev itself.
  }
  return {};
}

Expected<Layer> LayerWriter::finish() {
  State& state = *m_state;
  if (libarchive::archive_write_close(state.tar) != ARCHIVE_OK) {
    return fail("cannot finish a layer: {}",
                state.error.empty() ? archive_message(state.tar) : state.error);
  }
  if (!state.piece.empty()) {
    TRY(state.hand_over());
  }
  TRY(state.stop_compressor());
  TRY(state.deflate_into(nullptr, 0, Z_FINISH));
  // Not fsync'd: a layer is made again from what it was made of, and a registry or an
  // engine checks a blob against its digest before it uses it.
  Layer layer{.blob = {.media_type = std::string(k_layer_type),
                       .digest = "sha256:" + state.digest.hex_digest(),
                       .size = state.size},
              .diff_id = "sha256:" + state.diff_id.hex_digest()};
  std::error_code ec;
  fs::rename(state.temp, blob_path(state.layout, layer.blob.digest), ec);
  if (ec) {
    return fail("cannot store a layer: {}", ec.message());
  }
  state.temp.clear();
  return layer;
}

} // namespace slipway::cluster

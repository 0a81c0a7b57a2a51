// slug_tool pack DIR OUT | unpack SLUG DEST: slipway's slug packing and unpacking, alone,
// for bench/slug-pack to time against tar and zstd.
#include <cstdio>
#include <string_view>

#include "common/slug.hpp"

int main(int argc, char** argv) {
  using namespace slipway;
  if (argc != 4) {
    std::fprintf(stderr, "usage: slug_tool pack DIR OUT | unpack SLUG DEST\n");
    return 2;
  }
  std::string_view verb = argv[1];
  if (verb == "pack") {
    auto slug = pack_slug(argv[2], argv[3], {.max_size = UINT64_MAX});
    if (!slug) {
      std::fprintf(stderr, "slug_tool: %s\n", slug.error().message.c_str());
      return 1;
    }
    std::printf("%s %llu\n", slug->sha256.c_str(), static_cast<unsigned long long>(slug->size));
    return 0;
  }
  if (verb == "unpack") {
    auto unpacked = unpack_slug(argv[2], argv[3]);
    if (!unpacked) {
      std::fprintf(stderr, "slug_tool: %s\n", unpacked.error().message.c_str());
      return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "slug_tool: unknown verb '%s'\n", argv[1]);
  return 2;
}

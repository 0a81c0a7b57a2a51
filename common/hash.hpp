// SHA-256 over OpenSSL's EVP interface, fed incrementally.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

struct evp_md_ctx_st;

namespace slipway {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  void update(const void* data, std::size_t size);
  std::string hex_digest(); // 64 lowercase hex digits; ends the computation

 private:
  evp_md_ctx_st* m_ctx;
};

std::string sha256_hex(std::string_view data);
Expected<std::string> sha256_file(const std::filesystem::path& path);

} // namespace slipway

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

// HMAC-SHA256 of `data` with `key`: the raw 32 bytes, and as 64 lowercase hex digits.
std::string hmac_sha256(std::string_view key, std::string_view data);
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// Standard base64 (with padding) of `data`: how Heroku's webhooks carry their HMAC.
std::string base64(std::string_view data);

// Whether `a` and `b` are equal, in a time that depends on their length only (secrets,
// signatures): CRYPTO_memcmp.
bool equal_in_constant_time(std::string_view a, std::string_view b);
Expected<std::string> sha256_file(const std::filesystem::path& path);

} // namespace slipway

#include "common/hash.hpp"

#include <array>
#include <cerrno>
#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

#include "common/libcrypto.hpp"

namespace slipway {

Sha256::Sha256() : m_ctx(libcrypto::EVP_MD_CTX_new()) {
  if (!m_ctx || libcrypto::EVP_DigestInit_ex(m_ctx, libcrypto::EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL cannot initialise SHA-256");
  }
}

Sha256::~Sha256() {
  libcrypto::EVP_MD_CTX_free(m_ctx);
}

void Sha256::update(std::string_view data) {
  update(data.data(), data.size());
}

void Sha256::update(const void* data, std::size_t size) {
  libcrypto::EVP_DigestUpdate(m_ctx, data, size);
}

std::string Sha256::hex_digest() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  libcrypto::EVP_DigestFinal_ex(m_ctx, digest.data(), &length);
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(k_hex[digest[i] >> 4]);
    hex.push_back(k_hex[digest[i] & 0xf]);
  }
  return hex;
}

std::string sha256_hex(std::string_view data) {
  Sha256 hash;
  hash.update(data);
  return hash.hex_digest();
}

Expected<std::string> sha256_file(const std::filesystem::path& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return fail("cannot read '{}': {}", path.string(), errno_text(errno));
  }
  Sha256 hash;
  std::array<char, 1 << 16> buffer;
  ssize_t n = 0;
  while ((n = read(fd, buffer.data(), buffer.size())) > 0) {
    hash.update(buffer.data(), static_cast<std::size_t>(n));
  }
  int err = errno;
  close(fd);
  if (n < 0) {
    return fail("cannot read '{}': {}", path.string(), errno_text(err));
  }
  return hash.hex_digest();
}

} // namespace slipway

namespace slipway {

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  libcrypto::HMAC(libcrypto::EVP_sha256(), key.data(), static_cast<int>(key.size()),
                  reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &size);
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char byte : hmac_sha256(key, data)) {
    hex.push_back(k_hex[byte >> 4]);
    hex.push_back(k_hex[byte & 0xf]);
  }
  return hex;
}

std::string base64(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int size = libcrypto::EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(data.data()),
                                        static_cast<int>(data.size()));
  out.resize(static_cast<std::size_t>(size));
  return out;
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && libcrypto::CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace slipway

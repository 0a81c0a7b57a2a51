// OpenSSL's libcrypto, loaded when slipway first hashes (common/lazy_library.hpp): of the
// libraries a command would otherwise load at start, it took the longest (42,000
// relocations). Every function slipway calls is listed here and called as libcrypto::NAME.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/lazy_library.hpp"

namespace slipway::libcrypto {

inline const LazyLibrary library{SLIPWAY_LIBCRYPTO_SONAME};

SLIPWAY_LAZY_FUNCTION(library, CRYPTO_memcmp)
SLIPWAY_LAZY_FUNCTION(library, EVP_DigestFinal_ex)
SLIPWAY_LAZY_FUNCTION(library, EVP_EncodeBlock)
SLIPWAY_LAZY_FUNCTION(library, EVP_DigestInit_ex)
SLIPWAY_LAZY_FUNCTION(library, EVP_DigestUpdate)
SLIPWAY_LAZY_FUNCTION(library, EVP_MD_CTX_free)
SLIPWAY_LAZY_FUNCTION(library, EVP_MD_CTX_new)
SLIPWAY_LAZY_FUNCTION(library, EVP_sha256)
SLIPWAY_LAZY_FUNCTION(library, HMAC)

} // namespace slipway::libcrypto

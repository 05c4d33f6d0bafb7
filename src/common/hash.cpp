#include "common/hash.h"

#include "dermlens/error.h"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>

namespace dermlens {
namespace {

using DigestContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

DigestContext new_sha256() {
    DigestContext ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        throw Error(ErrorKind::Runtime, "SHA-256: OpenSSL could not initialise a digest");
    }
    return ctx;
}

std::string finish_hex(EVP_MD_CTX * ctx) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx, digest.data(), &length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex.push_back(kHex[digest[i] >> 4]);
        hex.push_back(kHex[digest[i] & 0xF]);
    }
    return hex;
}

}  // namespace

std::string sha256_bytes(std::span<const std::uint8_t> bytes) {
    auto ctx = new_sha256();
    EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
    return finish_hex(ctx.get());
}

std::string sha256_file(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput, "'" + path.string() + "': cannot open file for hashing");
    }
    auto ctx = new_sha256();
    std::array<char, 1 << 20> buffer{};
    while (in) {
        in.read(buffer.data(), buffer.size());
        EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(in.gcount()));
    }
    if (in.bad()) {
        throw Error(ErrorKind::InvalidInput, "'" + path.string() + "': read error while hashing");
    }
    return finish_hex(ctx.get());
}

}  // namespace dermlens

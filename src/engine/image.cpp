// dermlens::Image (dermlens/image.h): a shared handle on a file's or a buffer's bytes, their
// SHA-256, and the pixels once decoded (src/image/ decodes and refuses).
#include "dermlens/image.h"

#include "common/hash.h"
#include "dermlens/error.h"
#include "image/image.h"

#include <fmt/format.h>

#include <mutex>
#include <optional>
#include <vector>

namespace dermlens {

struct Image::Impl {
    std::string name;
    std::filesystem::path path;       // from_file
    std::vector<std::uint8_t> bytes;  // from_bytes
    DecodeLimits limits;
    std::string sha256;
    std::mutex decoding;
    std::optional<image::RgbImage> pixels;

    const image::RgbImage & decoded() {
        std::lock_guard lock(decoding);
        if (!pixels) {
            pixels = path.empty() ? image::decode_image(bytes, name, limits) : image::load_image(path, limits);
        }
        return *pixels;
    }
};

Image::Image(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

Image Image::from_file(const std::filesystem::path & path, const DecodeLimits & limits, std::string name) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) {  // before hashing, whose message would not say it is the image
        throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': no such file", path.string()));
    }
    auto impl = std::make_shared<Impl>();
    impl->name = name.empty() ? path.string() : std::move(name);
    impl->path = path;
    impl->limits = limits;
    impl->sha256 = sha256_file(path);
    return Image(std::move(impl));
}

Image Image::from_bytes(std::span<const std::uint8_t> bytes, std::string name, const DecodeLimits & limits) {
    if (bytes.size() > limits.max_file_bytes) {
        throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': {} bytes, more than the limit of {}", name,
                                                         bytes.size(), limits.max_file_bytes));
    }
    auto impl = std::make_shared<Impl>();
    impl->name = std::move(name);
    impl->bytes.assign(bytes.begin(), bytes.end());
    impl->limits = limits;
    impl->sha256 = sha256_bytes(impl->bytes);
    return Image(std::move(impl));
}

Image Image::from_rgb(int width, int height, std::span<const std::uint8_t> rgb, std::string name,
                      const DecodeLimits & limits) {
    if (width <= 0 || height <= 0) {
        throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': {}x{} pixels", name, width, height));
    }
    const std::uint64_t pixels = static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height);
    if (pixels > limits.max_pixels) {
        throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': {}x{} is {} pixels, more than the limit of {}",
                                                         name, width, height, pixels, limits.max_pixels));
    }
    if (rgb.size() != pixels * 3) {
        throw Error(ErrorKind::InvalidInput, fmt::format("image '{}': {} bytes of RGB for {}x{} pixels (expected {})",
                                                         name, rgb.size(), width, height, pixels * 3));
    }
    auto impl = std::make_shared<Impl>();
    impl->name = std::move(name);
    impl->limits = limits;
    impl->pixels = image::RgbImage{width, height, std::vector<std::uint8_t>(rgb.begin(), rgb.end())};
    impl->sha256 = sha256_bytes(impl->pixels->rgb);
    return Image(std::move(impl));
}

const std::string & Image::name() const noexcept {
    return impl_->name;
}

const std::string & Image::sha256() const noexcept {
    return impl_->sha256;
}

int Image::width() const {
    return impl_->decoded().width;
}

int Image::height() const {
    return impl_->decoded().height;
}

std::span<const std::uint8_t> Image::rgb() const {
    return impl_->decoded().rgb;
}

}  // namespace dermlens

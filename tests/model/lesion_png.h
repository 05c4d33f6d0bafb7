// A real dermoscopic image as a small PNG, shared by the tests that compare dermlens
// with llama-mtmd-cli: stb_image (mtmd-cli) and dermlens::image (OpenCV) decode a PNG to
// the same pixels, which JPEG's IDCTs would not guarantee.
#pragma once

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>

namespace dermlens::test {

// Writes `dir`/lesion.png (256x192) once: the shared ISIC melanoma image downscaled, or a
// drawn lesion when the shared data folder is absent.
inline std::filesystem::path lesion_png(const std::filesystem::path & dir) {
    const std::filesystem::path png = dir / "lesion.png";
    if (!std::filesystem::exists(png)) {
        const std::filesystem::path jpeg =
            std::filesystem::path(DERMLENS_SHARED_DIR) / "data/images/isic9class/melanoma/ISIC_0000002.jpg";
        cv::Mat image = cv::imread(jpeg.string(), cv::IMREAD_COLOR);
        if (image.empty()) {
            image = cv::Mat(192, 256, CV_8UC3, cv::Scalar(150, 170, 210));
            cv::circle(image, {128, 96}, 50, cv::Scalar(40, 60, 90), cv::FILLED);
        } else {
            cv::resize(image, image, {256, 192}, 0, 0, cv::INTER_AREA);
        }
        cv::imwrite(png.string(), image);
    }
    return png;
}

}  // namespace dermlens::test

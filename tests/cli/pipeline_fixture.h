// What the CLI tests of the re-ranking pipeline (diagnose, tune) share: a generated tiny
// Gemma 3 model, generated lesion images in a manifest with splits and clinical-context
// columns, and a probe trained the way a user would — `dermlens embed --export` then
// `dermlens probe train` — so that its encoder identity is the tiny model's.
#pragma once

#include "model/testmodel.h"
#include "support/run_process.h"
#include "support/temp_dir.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace dermlens::test {

struct PipelineFixture {
    explicit PipelineFixture(const std::string & tag) : dir(tag) {
        testmodel::Options options;
        options.out_dir = dir / "gemma3";
        gemma3 = testmodel::make_test_model(options);
        write_images_and_manifest();
        train_probe();
    }

    // Lesions of two looks, one per label; rows 0-3 train, 4-7 val, 8-9 test, with an age per row.
    void write_images_and_manifest() {
        const char * splits[] = {"train", "train", "train", "train", "val", "val", "val", "val", "test", "test"};
        std::string csv = "image,label,split,age,sex,site\n";
        for (int i = 0; i < 10; ++i) {
            const bool melanoma = i % 2 == 0;
            cv::Mat image(96 + 4 * i, 128, CV_8UC3, melanoma ? cv::Scalar(150, 170, 210) : cv::Scalar(200, 210, 230));
            cv::circle(image, {40 + 5 * i, 48}, melanoma ? 30 : 12, melanoma ? cv::Scalar(30, 30, 60) : cv::Scalar(90, 120, 160),
                       cv::FILLED);
            const std::string name = "lesion" + std::to_string(i) + ".png";
            cv::imwrite((dir / name).string(), image);
            images.push_back(dir / name);
            csv += name + "," + (melanoma ? "melanoma" : "nevus") + "," + splits[i] + "," + std::to_string(40 + i) +
                   ",female,upper back\n";
        }
        manifest = dir / "lesions.csv";
        write_file(manifest, csv);
    }

    void train_probe() {
        const std::filesystem::path features = dir / "features.csv";
        const ProcessResult embed = run_process({DERMLENS_CLI, "embed", "--manifest", manifest.string(), "--model",
                                                 gemma3.model.string(), "--mmproj", gemma3.mmproj.string(), "--cache",
                                                 (dir / "embed.sqlite").string(), "--export", features.string(),
                                                 "--threads", "1"});
        probe = dir / "lesions.probe";
        const ProcessResult train = run_process({DERMLENS_CLI, "probe", "train", "--features", features.string(),
                                                 "--shots", "0", "--seeds", "1", "--out", probe.string()});
        if (embed.exit_code != 0 || train.exit_code != 0) {
            throw std::runtime_error("probe fixture: " + embed.err + train.err);
        }
    }

    // The model, mmproj and threads arguments of a pipeline command.
    std::vector<std::string> model_args() const {
        return {"--model", gemma3.model.string(), "--mmproj", gemma3.mmproj.string(), "--threads", "1"};
    }

    TempDir dir;
    testmodel::Files gemma3;
    std::vector<std::filesystem::path> images;
    std::filesystem::path manifest;
    std::filesystem::path probe;
};

}  // namespace dermlens::test

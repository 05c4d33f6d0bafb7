// The image-quality gate (docs/quality.md) on 1-megapixel photos, one thread: the whole gate
// and each check alone (its share of the cost). Photos are shared PAD-UFES-20 clinical images
// resized to 1000 x 1000; the gate's target is under 50 ms per image on one core.
#include "grounding/lesion_mask.h"
#include "image/image.h"
#include "quality/gate.h"
#include "quality/modality.h"
#include "quality/thresholds.h"

#include <benchmark/benchmark.h>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace dermlens;

const std::vector<cv::Mat3b> & photos() {
    static const std::vector<cv::Mat3b> images = [] {
        const auto files = quality::image_files(fs::path(DERMLENS_SHARED_DIR) / "data/images/clinical/pad-ufes-20");
        std::vector<cv::Mat3b> found;
        for (std::size_t i = 0; i < files.size() && found.size() < 8; i += 20) {
            cv::Mat3b rgb = grounding::to_rgb_mat(image::load_image(files[i]));
            cv::resize(rgb, rgb, {1000, 1000}, 0, 0, cv::INTER_CUBIC);
            found.push_back(rgb);
        }
        return found;
    }();
    return images;
}

quality::Thresholds shipped() {
    return quality::load_thresholds(fs::path(DERMLENS_SOURCE_DIR) / "data/quality/thresholds.json");
}

void run_gate(benchmark::State & state, const quality::Thresholds & thresholds) {
    cv::setNumThreads(1);
    std::size_t next = 0;
    for (auto _ : state) {
        benchmark::DoNotOptimize(quality::assess(photos()[next++ % photos().size()], thresholds, "bench"));
    }
    state.SetLabel("1000x1000");
}

void BM_Gate(benchmark::State & state) { run_gate(state, shipped()); }
BENCHMARK(BM_Gate)->Unit(benchmark::kMillisecond)->MinTime(2.0);

void BM_OneCheck(benchmark::State & state) {
    quality::Thresholds only = shipped();
    const quality::CheckThresholds check = only.checks.at(static_cast<std::size_t>(state.range(0)));
    only.checks = {check};
    state.SetLabel(check.name);
    run_gate(state, only);
    state.SetLabel(check.name);
}
BENCHMARK(BM_OneCheck)->DenseRange(0, 12)->Unit(benchmark::kMillisecond)->MinTime(0.5);

}  // namespace

BENCHMARK_MAIN();

// What the paired-round benchmarks (bench_rerank, bench_grounding) share: their options — the
// model files, the images used in turn so that no round finds the previous round's image in
// the KV cache, the rounds, the threads — and the median they report.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::bench {

struct PairedRoundOptions {
    std::string model;
    std::string mmproj;
    std::vector<std::string> images{
        (std::filesystem::path(DERMLENS_SHARED_DIR) / "data/images/isic9class/melanoma/ISIC_0000002.jpg").string(),
        (std::filesystem::path(DERMLENS_SHARED_DIR) / "data/images/isic9class/nevus/ISIC_0000005.jpg").string()};
    int rounds = 3;
    int threads = 2;
};

inline void add_paired_round_options(CLI::App & app, PairedRoundOptions & options) {
    app.add_option("--model", options.model, "GGUF text model")->required();
    app.add_option("--mmproj", options.mmproj, "GGUF projector")->required();
    app.add_option("--image", options.images, "Images, used in turn (at least 2)")->capture_default_str();
    app.add_option("--rounds", options.rounds, "Paired rounds")->capture_default_str();
    app.add_option("--threads", options.threads, "CPU threads")->capture_default_str();
}

inline double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace dermlens::bench

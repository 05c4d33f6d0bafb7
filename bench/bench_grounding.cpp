// What attention capture costs: one describe-then-decide diagnosis (option scoring) from a
// stored encoding, on the same image and model, three ways:
//
//   plain          the model as `diagnose` loads it (text flash attention auto: on, on CPU)
//   fa off         loaded for capture (flash attention off, full sliding-window cache) but
//                  nothing observed: the price of the attention probabilities existing
//   capture        loaded for capture and observed: every token-choosing step's attention
//                  read out of every layer, reduced to m_label / m_all
//
// Runs are paired: each round runs the three on the same image (images alternate between
// rounds, so the KV cache never holds the previous round's image); medians of the
// per-round ratios are printed. The encoder is excluded: every run starts from an encoding.
//
//   bench_grounding --model M.gguf --mmproj P.gguf --rounds 5 [--image A.jpg --image B.jpg]
#include "paired_rounds.h"

#include "image/image.h"
#include "dermlens/kb/knowledge_base.h"
#include "model/vlm.h"
#include "pipeline/rerank.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace dermlens;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kLabels{"melanoma", "nevus", "seborrheic_keratosis", "basal_cell_carcinoma",
                                       "dermatofibroma"};

struct Runner {
    const char * name;
    std::unique_ptr<model::Vlm> vlm;
    std::unique_ptr<pipeline::Reranker> reranker;

    double run(const model::ImageEncoding & encoding, std::uint64_t image_seed, pipeline::RerankResult & result) {
        const auto start = Clock::now();
        result = reranker->diagnose(encoding, {}, image_seed);
        return std::chrono::duration<double>(Clock::now() - start).count();
    }
};

}  // namespace

int main(int argc, char ** argv) {
    CLI::App app{"Paired timing of a diagnosis with and without attention capture"};
    bench::PairedRoundOptions options;
    options.rounds = 5;
    bench::add_paired_round_options(app, options);
    CLI11_PARSE(app, argc, argv);

    const auto kb = kb::KnowledgeBase::load({kb::KnowledgeBase::shipped_dir()});
    pipeline::RerankParams plain;
    plain.strategy = pipeline::Strategy::DescribeThenDecide;
    pipeline::RerankParams captured = plain;
    captured.attention = grounding::AttentionReduction{};

    std::vector<Runner> runners;
    for (const auto & [name, capture, params] : {std::tuple{"plain", false, plain}, std::tuple{"fa off", true, plain},
                                                 std::tuple{"capture", true, captured}}) {
        model::VlmParams vlm_params;
        vlm_params.model_path = options.model;
        vlm_params.mmproj_path = options.mmproj;
        vlm_params.threads = options.threads;
        vlm_params.capture_attention = capture;
        auto vlm = std::make_unique<model::Vlm>(vlm_params);
        auto reranker = std::make_unique<pipeline::Reranker>(*vlm, kb, params, kLabels, "isic9class", nullptr);
        runners.push_back({name, std::move(vlm), std::move(reranker)});
    }
    std::vector<model::ImageEncoding> encodings;
    for (const auto & path : options.images) {
        const image::RgbImage image = image::load_image(path);
        encodings.push_back(runners.front().vlm->encode({image.width, image.height, image.rgb.data()}));
    }
    // Warm-up on the last image: every runner starts with the instruction prefix cached, as in a run.
    for (auto & runner : runners) {
        pipeline::RerankResult ignored;
        runner.run(encodings.back(), encodings.size() - 1, ignored);
    }

    std::vector<std::vector<double>> times(runners.size());
    std::vector<double> fa_ratio, capture_ratio;
    fmt::print("round  image  {:>9} {:>9} {:>9}  fa off/plain  capture/plain\n", "plain s", "fa off s", "capture s");
    for (int round = 0; round < options.rounds; ++round) {
        const std::size_t which = static_cast<std::size_t>(round) % encodings.size();
        std::vector<double> seconds;
        for (std::size_t r = 0; r < runners.size(); ++r) {
            pipeline::RerankResult result;
            seconds.push_back(runners[r].run(encodings[which], which, result));
            times[r].push_back(seconds.back());
            fmt::print(stderr, "  {}: {:.3f} s (describe {:.3f} s, decide {:.3f} s, {} generated, {} attention steps)\n",
                       runners[r].name, seconds.back(), result.timings.describe_ms / 1000,
                       result.timings.decide_ms / 1000, result.timings.generated_tokens,
                       result.attention ? result.attention->all_steps.size() : 0);
        }
        fa_ratio.push_back(seconds[1] / seconds[0]);
        capture_ratio.push_back(seconds[2] / seconds[0]);
        fmt::print("{:>5}  {:>5}  {:>9.3f} {:>9.3f} {:>9.3f}  {:>12.3f}  {:>13.3f}\n", round, which, seconds[0],
                   seconds[1], seconds[2], fa_ratio.back(), capture_ratio.back());
    }
    fmt::print("median        {:>9.3f} {:>9.3f} {:>9.3f}  {:>12.3f}  {:>13.3f}\n", bench::median(times[0]),
               bench::median(times[1]), bench::median(times[2]), bench::median(fa_ratio), bench::median(capture_ratio));
    return 0;
}

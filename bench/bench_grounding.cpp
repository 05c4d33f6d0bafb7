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

#include "dermlens/engine.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace dermlens;
using Clock = std::chrono::steady_clock;

struct Runner {
    const char * name;
    std::unique_ptr<Engine> engine;
    DiagnoseRequest request;

    double run(const EncodedImage & encoded, Diagnosis & result) {
        const auto start = Clock::now();
        result = engine->diagnose(encoded, request);
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

    DiagnoseRequest plain;
    plain.labels = {"melanoma", "nevus", "seborrheic_keratosis", "basal_cell_carcinoma", "dermatofibroma"};
    plain.label_set = "isic9class";
    plain.strategy = "describe-then-decide";
    DiagnoseRequest captured = plain;
    captured.attention.enabled = true;

    std::vector<Runner> runners;
    for (const auto & [name, capture, request] : {std::tuple{"plain", false, plain}, std::tuple{"fa off", true, plain},
                                                  std::tuple{"capture", true, captured}}) {
        EngineParams params;
        params.model = options.model;
        params.mmproj = options.mmproj;
        params.threads = options.threads;
        params.capture_attention = capture;
        runners.push_back({name, std::make_unique<Engine>(params), request});
    }
    // Encoded once by the first Engine: the same model reads the same image tokens in all three.
    std::vector<EncodedImage> encodings;
    for (const auto & path : options.images) {
        encodings.push_back(runners.front().engine->encode(Image::from_file(path)));
    }
    // Warm-up on the last image: every runner starts with the instruction prefix cached, as in a run.
    for (auto & runner : runners) {
        Diagnosis ignored;
        runner.run(encodings.back(), ignored);
    }

    std::vector<std::vector<double>> times(runners.size());
    std::vector<double> fa_ratio, capture_ratio;
    fmt::print("round  image  {:>9} {:>9} {:>9}  fa off/plain  capture/plain\n", "plain s", "fa off s", "capture s");
    for (int round = 0; round < options.rounds; ++round) {
        const std::size_t which = static_cast<std::size_t>(round) % encodings.size();
        std::vector<double> seconds;
        for (std::size_t r = 0; r < runners.size(); ++r) {
            Diagnosis result;
            seconds.push_back(runners[r].run(encodings[which], result));
            times[r].push_back(seconds.back());
            fmt::print(stderr, "  {}: {:.3f} s (describe {:.3f} s, decide {:.3f} s, {} generated, {} attention maps)\n",
                       runners[r].name, seconds.back(), result.timings.describe_ms / 1000,
                       result.timings.decide_ms / 1000, result.timings.generated_tokens, result.attention.size());
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

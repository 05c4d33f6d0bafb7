// What dermlens's `combined` strategy costs against the papers' way of running it, and
// against `direct`, on the same images (paper 000's best configuration: top-k candidates
// from the probe, in-context descriptions, describe-then-decide).
//
//   combined        encoder once (probe feature and image tokens from one pass), the
//                   instruction prefix and the image reused from the KV cache across turns
//                   and images, the answer read by option scoring (one forward step);
//   naive combined  the encoder run twice (once for the probe feature, once for the
//                   prompt), no prefix reuse, the answer generated and parsed;
//   direct          encoder once, all labels as options, option scoring.
//
// Runs are paired: each round runs the three on the same image (images alternate between
// rounds, so no image is ever served from the previous round's cache), each with its own
// loaded model; the medians of the per-round ratios are printed. The probe has random
// weights for the model's encoder: it sets the candidates, not the accuracy.
//
//   bench_rerank --model M.gguf --mmproj P.gguf --rounds 3 [--image A.jpg --image B.jpg]
#include "paired_rounds.h"

#include "dermlens/engine.h"
#include "probe/probe.h"
#include "vision/encoder_identity.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace dermlens;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kLabels{"actinic_keratosis", "basal_cell_carcinoma", "dermatofibroma",
                                       "melanoma",          "nevus",                "pigmented_benign_keratosis",
                                       "seborrheic_keratosis", "squamous_cell_carcinoma", "vascular_lesion"};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A probe file of random weights for the model's encoder, beside the system's temporary files.
fs::path random_probe(const fs::path & mmproj, std::size_t dimension) {
    probe::Probe p;
    p.classes = kLabels;
    p.label_set = "isic9class";
    p.encoder = vision::encoder_identity(mmproj, vision::FeatureKind::EncoderMean);
    p.dimension = dimension;
    std::mt19937_64 rng(1);
    std::normal_distribution<double> normal(0.0, 0.05);
    p.weights = Eigen::MatrixXd::NullaryExpr(static_cast<Eigen::Index>(kLabels.size()),
                                             static_cast<Eigen::Index>(dimension), [&] { return normal(rng); });
    p.bias = Eigen::VectorXd::Zero(static_cast<Eigen::Index>(kLabels.size()));
    p.validate();
    const fs::path file = fs::temp_directory_path() / "bench_rerank_random.probe";
    probe::save_probe(p, file);
    return file;
}

struct Config {
    const char * name;
    bool reuse_prefix;
    int encodes;  // vision encoder runs per image
    DiagnoseRequest request;
};

struct Runner {
    Config config;
    std::unique_ptr<Engine> engine;

    double run(const Image & image, Diagnosis & result) {
        const auto start = Clock::now();
        EncodedImage encoded;
        for (int i = 0; i < config.encodes; ++i) {
            encoded = engine->encode(image);
        }
        result = engine->diagnose(encoded, config.request);
        return seconds_since(start);
    }
};

}  // namespace

int main(int argc, char ** argv) {
    CLI::App app{"Paired timing of combined vs naive combined vs direct"};
    bench::PairedRoundOptions options;
    options.rounds = 3;
    bench::add_paired_round_options(app, options);
    CLI11_PARSE(app, argc, argv);

    std::vector<Image> images;
    for (const auto & path : options.images) {
        images.push_back(Image::from_file(path));
    }
    // The probe's feature width: one encoding by a model loaded for that alone.
    EngineParams shape_params;
    shape_params.model = options.model;
    shape_params.mmproj = options.mmproj;
    shape_params.threads = options.threads;
    const std::size_t dimension = Engine(shape_params).encode(images[0]).encoder_mean().size();
    const fs::path probe_file = random_probe(options.mmproj, dimension);

    DiagnoseRequest combined;
    combined.strategy = "combined";
    DiagnoseRequest naive = combined;
    naive.decide = "generate";
    DiagnoseRequest direct;
    direct.strategy = "direct";
    std::vector<Runner> runners;
    for (const Config & config : {Config{"combined", true, 1, combined}, Config{"naive combined", false, 2, naive},
                                  Config{"direct", true, 1, direct}}) {
        EngineParams params = shape_params;
        params.probe = probe_file;
        params.reuse_prefix = config.reuse_prefix;
        runners.push_back({config, std::make_unique<Engine>(params)});
    }
    // Warm-up on the other image: every runner starts with the instruction prefix cached, as in a run.
    for (auto & runner : runners) {
        Diagnosis ignored;
        runner.run(images[1], ignored);
    }

    std::vector<double> naive_ratio, direct_ratio;
    std::vector<std::vector<double>> times(runners.size());
    fmt::print("round  image  {:>12} {:>16} {:>10}  combined/naive  combined/direct\n", "combined s", "naive combined s",
               "direct s");
    for (int round = 0; round < options.rounds; ++round) {
        const std::size_t which = static_cast<std::size_t>(round) % images.size();
        std::vector<double> seconds;
        for (auto & runner : runners) {
            Diagnosis result;
            seconds.push_back(runner.run(images[which], result));
            times[seconds.size() - 1].push_back(seconds.back());
            fmt::print(stderr, "  {}: {:.1f} s (describe {:.1f} s, decide {:.1f} s, prompt {} tokens, {} reused, {} generated)\n",
                       runner.config.name, seconds.back(), result.timings.describe_ms / 1000, result.timings.decide_ms / 1000,
                       result.timings.prompt_tokens, result.timings.reused_tokens, result.timings.generated_tokens);
        }
        naive_ratio.push_back(seconds[0] / seconds[1]);
        direct_ratio.push_back(seconds[0] / seconds[2]);
        fmt::print("{:>5}  {:>5}  {:>12.1f} {:>16.1f} {:>10.1f}  {:>14.3f}  {:>15.3f}\n", round, which, seconds[0],
                   seconds[1], seconds[2], naive_ratio.back(), direct_ratio.back());
    }
    fmt::print("median {:>12.1f} {:>16.1f} {:>10.1f}  {:>14.3f}  {:>15.3f}\n", bench::median(times[0]),
               bench::median(times[1]), bench::median(times[2]), bench::median(naive_ratio), bench::median(direct_ratio));
    fmt::print("encoder runs: combined {}, naive combined {}, direct {} (one warm-up image included)\n",
               runners[0].engine->info().encoder_runs, runners[1].engine->info().encoder_runs,
               runners[2].engine->info().encoder_runs);
    return 0;
}

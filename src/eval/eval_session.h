// What the protocols of `dermlens eval` share: the run's parameters (validated before anything
// loads), the knowledge base, the dataset, the model (loaded on first use: a report rebuilt
// from a finished run needs none), each image's encoding (through the embedding cache, so a
// resumed run never encodes an image twice) and the few-shot probes per (shots, seed).
#pragma once

#include "eval/eval_dataset.h"
#include "eval/vqa_questions.h"
#include "dermlens/kb/knowledge_base.h"
#include "model/vlm.h"
#include "pipeline/prompt.h"
#include "pipeline/rerank.h"
#include "probe/probe.h"
#include "vision/embedding_cache.h"
#include "vision/encoder_identity.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dermlens::eval {

struct EvalParams {
    std::string protocol;
    std::filesystem::path manifest;
    std::string label_set;
    std::vector<std::filesystem::path> kb_overlays;
    model::VlmParams vlm;               // model_path and mmproj_path name the files
    std::filesystem::path cache;        // the embedding cache; empty: none (every image is encoded)
    std::size_t seeds = 5;              // runs per configuration (paper 000: five), seeds seed .. seed + seeds - 1
    std::uint64_t seed = 0;             // also of the generated split
    std::size_t shots = 8;              // the probe of the re-ranking strategies (paper 000: 8-shot)
    std::vector<std::size_t> shot_counts{1, 2, 4, 8, 16};  // paper000-shots
    std::size_t top_k = 5;              // the probe's candidates (paper 000: top-5)
    std::string conformal_score = "lac";  // the probes' conformal sets (probe/conformal.h)
    bool conformal_per_class = false;     // class-conditional (Mondrian) calibration
    std::string strategy = "direct";    // granularity, fairness: the one pipeline strategy they score
    pipeline::PromptStyle style = pipeline::PromptStyle::Dermlens;
    pipeline::DescriptionSchema schema = pipeline::DescriptionSchema::FiveCriteria;
    pipeline::DecideMode decide = pipeline::DecideMode::Score;
    int answer_tokens = 64;             // --decide generate
    float temperature = 0;              // of generated text; 0: greedy
    std::string rouge = "sentence";     // skinvl-vqa's ROUGE-L: sentence | summary (metrics/text_metrics.h)
    std::size_t limit = 0;              // the first N test images; 0: all
    double max_megapixels = 100;
    std::size_t bootstrap_resamples = 1000;

    void validate() const;  // throws Error(InvalidArgument) naming the option
    // skinvl-vqa: the manifest is a JSON Lines file of open questions (vqa_questions.h), no label set.
    bool is_vqa() const noexcept { return protocol == "skinvl-vqa"; }
    // What a resumed run must agree on (limit and shard excluded: a resumed run may go further).
    nlohmann::ordered_json settings(const std::string & model_sha256, const std::string & mmproj_sha256) const;
    // The parameters a run was started with, from its stored settings (`eval merge` rebuilds
    // the reports with them). Throws Error(InvalidInput) for settings that lack a field.
    static EvalParams from_settings(const nlohmann::ordered_json & settings);
};

class EvalSession {
public:
    // Validates the parameters, loads the knowledge base and the dataset. Throws dermlens::Error.
    explicit EvalSession(EvalParams params);
    ~EvalSession();
    EvalSession(const EvalSession &) = delete;
    EvalSession & operator=(const EvalSession &) = delete;

    const EvalParams & params() const noexcept { return params_; }
    const kb::KnowledgeBase & kb() const noexcept { return kb_; }
    const EvalDataset & dataset() const noexcept { return dataset_; }
    // skinvl-vqa's questions (empty for the other protocols); dataset() holds their images.
    const VqaSet & vqa() const noexcept { return vqa_; }
    // The test split's rows, the first --limit of them.
    const std::vector<std::size_t> & test_rows() const noexcept { return test_rows_; }

    model::Vlm & vlm();  // the Engine's, loaded on first use
    const vision::EncoderIdentity & encoder();
    // The image's encoding: the one held from the previous call, the cache's, or the encoder's
    // (then stored in the cache). Throws Error(InvalidInput) for an unreadable image.
    const model::ImageEncoding & encoding(std::size_t image);
    // The probe trained on `shots` images per class (0: all) of the train split, drawn with
    // `seed`, calibrated on the calib split; trained once per (shots, seed).
    const probe::Probe & probe(std::size_t shots, std::uint64_t seed);
    // The probe's class probabilities for one image (its encoder-mean feature).
    std::vector<double> probe_probabilities(const probe::Probe & probe, std::size_t image);

    // Reports what takes long outside the samples (encoding the training images).
    void set_progress(std::function<void(const std::string &)> progress) { progress_ = std::move(progress); }

private:
    const std::string & image_sha256(std::size_t image);
    const std::vector<float> & feature(std::size_t image);

    EvalParams params_;
    kb::KnowledgeBase kb_;
    EvalDataset dataset_;
    VqaSet vqa_;
    std::vector<std::size_t> test_rows_;
    Engine & engine();

    std::unique_ptr<Engine> engine_;
    std::optional<vision::EncoderIdentity> encoder_;
    std::unique_ptr<vision::EmbeddingCache> cache_;  // features read without loading the model
    std::map<std::size_t, std::string> sha256_;
    std::optional<std::pair<std::size_t, EncodedImage>> held_;
    // Every image's encoder-mean feature once read: each (shots, seed) probe trains on the same
    // images, and without the embedding cache each read would run the encoder again.
    std::map<std::size_t, std::vector<float>> features_;
    std::map<std::pair<std::size_t, std::uint64_t>, probe::Probe> probes_;
    std::function<void(const std::string &)> progress_;
};

}  // namespace dermlens::eval

// dermlens diagnose --model M --mmproj P (--labels "a,b" | --label-set NAME | --probe P.probe)
//   [--strategy S] [--style S] [--schema S] [--decide score|generate] [--candidates topk|conformal]
//   [--top-k K] [--alpha A] [--not-sure] [--abstain-below P] [--shuffle-options] [--kb DIR]...
//   [--age N --sex S --site S --history S --fitzpatrick N] [--cache DB] [--json]
//   [--quality off|report|reject] [--quality-thresholds FILE]
//   [--attention] [--heatmap DIR] [--mask FILE] [--attention-layers A:B] [--attention-reduce mean|max]
//   (IMAGE... | --manifest M)
// The grounded re-ranking pipeline on each image (docs/diagnose-json.md): the image is
// encoded once (or read from the embedding cache), and that one encoding feeds the probe
// and every turn of the strategy.
#include "commands.h"
#include "diagnose_flow.h"

#include "dermlens/error.h"
#include "dataset/manifest.h"

#include <memory>

namespace dermlens::cli {
namespace {

struct DiagnoseOptions {
    std::string model;
    std::string mmproj;
    std::vector<std::string> images;
    std::string manifest;
    std::string cache;  // empty: no embedding cache
    DecisionOptions decision;
    ClassOptions classes;
    ContextOptions context;
    RuntimeOptions runtime;
    AttentionOptions attention;
    QualityGateOptions quality;

    // Images come from the command line or from --manifest, not both; --mask belongs to one
    // command-line image. Throws Error(InvalidArgument).
    void validate() const {
        if (images.empty() == manifest.empty()) {
            throw Error(ErrorKind::InvalidArgument, "give the images to diagnose either as arguments or with --manifest");
        }
        if (!attention.mask.empty() && images.size() != 1) {
            throw Error(ErrorKind::InvalidArgument,
                        "--mask is the lesion mask of one image: give one image (a manifest gives masks in its `mask` "
                        "column)");
        }
    }
};

int run_diagnose(const DiagnoseOptions & options) {
    options.validate();
    const ClinicalContext context = options.context.context();
    std::vector<ImageInput> inputs = options.manifest.empty()
                                         ? command_line_inputs(options.images, context)
                                         : manifest_inputs(dataset::read_manifest(options.manifest), context);
    if (!options.attention.mask.empty()) {
        inputs.front().mask = options.attention.mask;
    }
    DiagnoseSession session(options.model, options.mmproj, options.runtime, options.decision, options.classes,
                            options.cache, options.attention, options.quality);
    return diagnose_and_print(
        session, inputs, [&](const ImageInput & input) { return session.diagnose(input); }, options.runtime.json, "");
}

}  // namespace

void register_diagnose(CLI::App & root, std::vector<Command> & commands) {
    auto options = std::make_shared<DiagnoseOptions>();
    auto * app = root.add_subcommand(
        "diagnose", "Diagnose each image with the grounded re-ranking pipeline: candidates, descriptions, the VLM's "
                    "option probabilities fused with the probe's, a differential or an abstention");
    app->add_option("--model,-m", options->model, "GGUF text model (e.g. MedGemma-4B)")
        ->required()
        ->envname("DERMLENS_MODEL");
    app->add_option("--mmproj", options->mmproj, "GGUF vision projector belonging to the model")
        ->required()
        ->envname("DERMLENS_MMPROJ");
    app->add_option("images", options->images, "Image files (JPEG, PNG, ...)");
    app->add_option("--manifest", options->manifest,
                    "CSV (image,label[,age,sex,site,history,fitzpatrick,...]) or folder of class folders: the images "
                    "to diagnose, with clinical context from the columns of those names");
    add_cache_option(*app, options->cache);
    add_class_options(*app, options->classes);
    add_decision_options(*app, options->decision, "direct");
    add_context_options(*app, options->context);
    add_runtime_options(*app, options->runtime);
    add_attention_options(*app, options->attention, /*with_outputs=*/true);
    add_quality_gate_options(*app, options->quality);
    commands.push_back({app, [options] { return run_diagnose(*options); }});
}

}  // namespace dermlens::cli

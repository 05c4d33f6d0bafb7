#include "ground_flow.h"

#include "cli_errors.h"
#include "progress.h"

#include "common/atomic_file.h"
#include "common/hash.h"
#include "dermlens/error.h"
#include "dataset/manifest.h"
#include "image/image.h"
#include "engine/details.h"
#include "pipeline/prompt.h"

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <chrono>

namespace dermlens::cli {
namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string trimmed(const std::string & text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos) {
        return "";
    }
    return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

json optional_json(const std::optional<double> & value) {
    return value ? json(*value) : json(nullptr);
}

json text_or_null(const std::string & text) {
    return text.empty() ? json(nullptr) : json(text);
}

// The index of `column` among the manifest's columns; none when it is absent under its
// default name (no masks given), Error(InvalidArgument) when the option renamed it.
std::optional<std::size_t> lesion_column(const dataset::Manifest & manifest, const std::string & column,
                                         const char * default_name, const char * option) {
    const auto & columns = manifest.metadata_columns;
    const auto found = std::find(columns.begin(), columns.end(), column);
    if (found != columns.end()) {
        return static_cast<std::size_t>(found - columns.begin());
    }
    if (column != default_name) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("{} '{}': manifest '{}' has no such column", option, column, manifest.source.string()));
    }
    return std::nullopt;
}

}  // namespace

void add_ground_options(CLI::App & app, GroundOptions & options, const std::string & default_strategy,
                        const std::vector<std::string> & left_out) {
    app.add_option("--model,-m", options.model, "GGUF text model (e.g. MedGemma-4B)")
        ->required()
        ->envname("DERMLENS_MODEL");
    app.add_option("--mmproj", options.mmproj, "GGUF vision projector belonging to the model")
        ->required()
        ->envname("DERMLENS_MMPROJ");
    app.add_option("--manifest", options.manifest,
                   "CSV (image,label[,mask,box,age,sex,site,...]) or folder of class folders: the images to test")
        ->required();
    app.add_option("--out", options.out, "Folder for report.json, summary.csv and the other outputs (created)")
        ->required();
    app.add_option("--limit", options.limit, "Test only the manifest's first N images (0: all)")->capture_default_str();
    app.add_option("--mask-column", options.mask_column,
                   "CSV column naming each image's lesion mask file (nonzero = lesion; relative to the manifest's folder)")
        ->capture_default_str();
    app.add_option("--box-column", options.box_column,
                   "CSV column holding each image's lesion box \"x0,y0,x1,y1\" (pixels; used when there is no mask file)")
        ->capture_default_str();
    add_class_options(app, options.classes);
    add_decision_options(app, options.decision, default_strategy);
    // The shared decision options include some a ground test sets itself (the strategies it
    // compares, the "not sure" option it needs): those are not offered.
    for (const auto & name : left_out) {
        app.remove_option(app.get_option(name));
    }
    add_runtime_options(app, options.runtime);
}

void add_strategies_option(CLI::App & app, std::string & strategies) {
    app.add_option("--strategies", strategies,
                   "Strategies each image is asked with, comma-separated: direct, in-context, describe-then-decide, "
                   "topk, combined (the last two need --probe)")
        ->capture_default_str();
}

std::vector<std::string> parse_strategy_list(const std::string & text) {
    std::vector<std::string> names;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string name(pipeline::strategy_name(pipeline::parse_strategy(trimmed(text.substr(start, comma - start)))));
        if (std::find(names.begin(), names.end(), name) != names.end()) {
            throw Error(ErrorKind::InvalidArgument, fmt::format("--strategies '{}': {} is named twice", text, name));
        }
        names.push_back(name);
        start = comma + 1;
    }
    return names;
}

std::vector<ImageInput> ground_inputs(const GroundOptions & options) {
    dataset::Manifest manifest = dataset::read_manifest(options.manifest);
    if (options.limit > 0 && manifest.rows.size() > options.limit) {
        manifest.rows.resize(options.limit);
    }
    const auto mask = lesion_column(manifest, options.mask_column, "mask", "--mask-column");
    const auto box = lesion_column(manifest, options.box_column, "box", "--box-column");
    const fs::path folder = fs::is_directory(manifest.source) ? manifest.source : manifest.source.parent_path();

    std::vector<ImageInput> inputs = manifest_inputs(manifest, {});
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const auto cell = [&](const std::optional<std::size_t> & column) {
            return column ? trimmed(manifest.rows[i].metadata[*column]) : std::string();
        };
        const std::string mask_file = cell(mask);
        inputs[i].mask = mask_file.empty() ? std::nullopt : std::optional<fs::path>(folder / mask_file);
        inputs[i].box = cell(box);
    }
    return inputs;
}

grounding::MaskSpec mask_spec(const ImageInput & input) {
    return {input.mask, input.box.empty() ? std::nullopt : std::optional<std::string>(input.box), {}};
}

namespace {

// The request of each strategy, checked before anything loads.
std::vector<DiagnoseRequest> strategy_requests(const GroundOptions & options, const GroundSetup & setup) {
    options.classes.validate(!options.decision.probe.empty());
    options.runtime.limits();
    std::vector<DiagnoseRequest> requests;
    for (const auto & strategy : setup.strategies) {
        DecisionOptions decision = options.decision;
        decision.strategy = strategy;
        DiagnoseRequest request;
        decision.fill(request);
        options.classes.fill(request);
        options.runtime.fill(request);
        request.not_sure = request.not_sure || setup.not_sure;
        if (setup.attention) {
            setup.attention->fill(request);
        }
        request.validate();
        requests.push_back(std::move(request));
    }
    return requests;
}

}  // namespace

GroundSession::GroundSession(const GroundOptions & options, GroundSetup setup)
    : options_(options),
      setup_(std::move(setup)),
      requests_(strategy_requests(options_, setup_)),
      engine_(engine_params(options.model, options.mmproj, options.runtime, options.decision, options.classes, "",
                            setup_.attention.has_value())) {
    for (const auto & request : requests_) {
        engine_.check(request);
    }
}

LoadedImage GroundSession::load(const ImageInput & input) const {
    const image::RgbImage rgb = image::load_image(input.path, options_.runtime.limits());
    return {sha256_file(input.path), grounding::to_rgb_mat(rgb)};
}

EncodedImage GroundSession::encode(const cv::Mat3b & rgb) {
    const cv::Mat3b pixels = rgb.isContinuous() ? rgb : rgb.clone();
    const std::span<const std::uint8_t> bytes(pixels.ptr<std::uint8_t>(), pixels.total() * 3);
    return engine_.encode(Image::from_rgb(pixels.cols, pixels.rows, bytes, "pixels", options_.runtime.limits()));
}

pipeline::RerankResult GroundSession::diagnose(std::size_t strategy, const EncodedImage & encoded,
                                               const ImageInput & input, const std::string & seed_sha256) {
    DiagnoseRequest request = requests_.at(strategy);
    request.context = input.context;
    EncodedImage seeded = encoded;
    seeded.image.sha256 = seed_sha256;
    return engine_.diagnose(seeded, request).details->result;
}

json GroundSession::settings() const {
    const DecisionOptions & decision = options_.decision;
    const RuntimeOptions & runtime = options_.runtime;
    const EngineInfo info = engine_.info();
    const DiagnoseRequest & first = requests_.front();
    std::vector<std::string> labels = first.labels;
    if (info.probe) {
        labels = info.probe->classes;
    } else if (labels.empty()) {
        for (const auto & label : engine_.kb().label_set(first.label_set).labels) {
            labels.push_back(label.label);
        }
    }
    return {{"model", {{"path", info.model.path.string()}, {"sha256", info.model.sha256}}},
            {"mmproj", {{"path", options_.mmproj}, {"sha256", info.mmproj.sha256}}},
            {"manifest", options_.manifest},
            {"limit", options_.limit},
            {"mask_column", options_.mask_column},
            {"box_column", options_.box_column},
            {"strategies", setup_.strategies},
            {"labels", labels},
            {"label_set", info.probe ? info.probe->label_set : first.label_set},
            {"probe", text_or_null(decision.probe)},
            {"style", decision.style},
            {"schema", decision.schema},
            {"decide", decision.decide},
            {"candidates", decision.candidates},
            {"top_k", decision.top_k},
            {"not_sure_option", first.not_sure},
            {"abstain_below", decision.abstain_below},
            {"shuffle_options", decision.shuffle_options},
            {"threads", info.threads},
            {"context_size", runtime.context_size},
            {"max_tokens", runtime.max_tokens},
            {"seed", runtime.seed},
            {"temperature", runtime.temperature}};
}

json decision_json(const pipeline::RerankResult & result) {
    json out = {{"abstained", result.abstained},
                {"reason", text_or_null(result.abstain_reason)},
                {"final", result.final ? json(result.final->label) : json(nullptr)},
                {"probability", result.final ? json(result.final->probability) : json(nullptr)},
                {"not_sure_probability", optional_json(result.not_sure_probability)}};
    if (!result.description_text.empty()) {
        out["description"] = result.description_text;
    }
    return out;
}

json mask_json(const grounding::LesionMask & mask) {
    return {{"source", grounding::mask_source_name(mask.source)},
            {"area", static_cast<double>(cv::countNonZero(mask.pixels)) / static_cast<double>(mask.pixels.total())}};
}

ImageRows for_each_image(const std::string & title, const std::vector<ImageInput> & inputs, const GroundOne & one) {
    ImageRows out;
    ProgressLine progress(title, inputs.size());
    const auto start = Clock::now();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const ImageInput & input = inputs[i];
        json row = {{"image", input.name}, {"label", input.label}};
        try {
            row.update(one(input));
        } catch (const Error & e) {
            if (stops_batch(e)) {
                throw;
            }
            ++out.failed;
            row["error"] = error_json(input.name, e).at("error");
            progress.message(fmt::format("dermlens: error: {}: {}", input.name, cli_message(e)));
        }
        out.rows.push_back(std::move(row));
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        progress.update(i + 1, fmt::format("failed {}", out.failed), seconds > 0 ? static_cast<double>(i + 1) / seconds : 0,
                        inputs.size() - i - 1);
    }
    return out;
}

std::vector<const json *> succeeded(const json & rows) {
    std::vector<const json *> out;
    for (const auto & row : rows) {
        if (!row.contains("error")) {
            out.push_back(&row);
        }
    }
    return out;
}

fs::path prepare_out_dir(const std::string & out) {
    std::error_code error;
    fs::create_directories(out, error);
    if (!fs::is_directory(out)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("--out '{}': cannot create the folder{}", out, error ? ": " + error.message() : ""));
    }
    return out;
}

void write_text_file(const fs::path & path, const std::string & text) {
    write_file_atomically(path, text, "output file");
}

void write_json_file(const fs::path & path, const json & value) {
    // Generated text can end inside a UTF-8 sequence (the token budget ran out): shown as U+FFFD.
    write_text_file(path, value.dump(2, ' ', false, json::error_handler_t::replace) + "\n");
}

void write_png(const fs::path & path, const cv::Mat3b & image, grounding::ChannelOrder order) {
    cv::Mat3b bgr = image;
    if (order == grounding::ChannelOrder::Rgb) {
        cv::cvtColor(image, bgr, cv::COLOR_RGB2BGR);
    }
    std::vector<unsigned char> png;
    if (!cv::imencode(".png", bgr, png)) {
        throw Error(ErrorKind::Runtime, fmt::format("PNG '{}': OpenCV could not encode it", path.string()));
    }
    std::error_code error;
    fs::create_directories(path.parent_path(), error);  // a failure is reported by the write, naming the folder
    write_file_atomically(path, {reinterpret_cast<const char *>(png.data()), png.size()}, "PNG");
}

double share(std::size_t count, std::size_t total) noexcept {
    return total == 0 ? 0.0 : static_cast<double>(count) / static_cast<double>(total);
}

}  // namespace dermlens::cli

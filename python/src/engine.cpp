// dermlens.Engine and dermlens.EncodedImage: the library's Engine for Python. Inference runs
// with the GIL released; a Python progress callback and Ctrl-C reach the running call through
// the Engine's progress and should-stop callbacks, which take the GIL back for the moment
// they run. A KeyboardInterrupt (or any exception a progress callback raises) stops the call
// at the Engine's next check and is raised from it; the Engine stays usable.
#include "bindings.h"

#include "dermlens/engine.h"
#include "dermlens/error.h"
#include "dermlens/quality_gate.h"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dermlens::python {
namespace {

// The Python side of one call: its progress callback and the Python error that stopped it.
class CallbackBridge {
public:
    explicit CallbackBridge(py::object progress) : progress_(std::move(progress)) {}

    // Called without the GIL, on the calling thread, before the encoder runs and before every
    // decoded token. Python's signal handlers run at most every kSignalInterval, so that another
    // busy Python thread does not make every token wait for the GIL.
    bool should_stop() {
        if (pending_) {
            return true;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now - last_signal_check_ < kSignalInterval) {
            return false;
        }
        last_signal_check_ = now;
        const py::gil_scoped_acquire gil;
        if (PyErr_CheckSignals() != 0) {  // runs Python's signal handlers: Ctrl-C raises KeyboardInterrupt here
            pending_.emplace();
            return true;
        }
        return false;
    }

    void progress(std::string_view stage, int step, int total) {
        if (progress_.is_none()) {
            return;
        }
        const py::gil_scoped_acquire gil;
        if (pending_) {
            return;
        }
        try {
            progress_(std::string(stage), step, total);
        } catch (py::error_already_set & e) {
            pending_.emplace(std::move(e));
        }
    }

    // Runs `call` without the GIL; raises the Python error that stopped it, if one did.
    template <typename Call>
    auto run(Call && call) {
        try {
            auto result = [&] {
                const py::gil_scoped_release release;
                return call();
            }();
            raise_pending();
            return result;
        } catch (const Error &) {
            raise_pending();
            throw;
        }
    }

    ShouldStopCallback should_stop_callback() {
        return [this] { return should_stop(); };
    }
    ProgressCallback progress_callback() {
        return [this](std::string_view stage, int step, int total) { progress(stage, step, total); };
    }

private:
    void raise_pending() {
        if (pending_) {
            py::error_already_set error = std::move(*pending_);
            pending_.reset();
            throw error;
        }
    }

    static constexpr std::chrono::milliseconds kSignalInterval{20};

    py::object progress_;
    std::optional<py::error_already_set> pending_;  // touched on the calling thread only
    std::chrono::steady_clock::time_point last_signal_check_{};
};

FlashAttention flash_attention_of(const std::string & text, const std::string & field) {
    return parse_flash_attention(text, field);
}

ClinicalContext context_of(const py::handle & value) {
    ClinicalContext context;
    if (value.is_none()) {
        return context;
    }
    if (!py::isinstance<py::dict>(value)) {
        throw Error(ErrorKind::InvalidArgument, "context: expected a dict with age, sex, site, history, fitzpatrick",
                    "context");
    }
    for (const auto & [key, item] : py::reinterpret_borrow<py::dict>(value)) {
        const std::string name = py::str(key);
        if (item.is_none()) {
            continue;
        }
        if (name == "age") {
            context.age = item.cast<int>();
        } else if (name == "fitzpatrick") {
            context.fitzpatrick = item.cast<int>();
        } else if (name == "sex") {
            context.sex = item.cast<std::string>();
        } else if (name == "site") {
            context.site = item.cast<std::string>();
        } else if (name == "history") {
            context.history = item.cast<std::string>();
        } else {
            throw Error(ErrorKind::InvalidArgument,
                        "context." + name + ": unknown field (age, sex, site, history, fitzpatrick)", "context." + name);
        }
    }
    return context;
}

struct DiagnoseOptions {
    std::optional<std::vector<std::string>> labels;
    std::string label_set;
    std::string strategy;
    std::string style;
    std::string schema;
    std::string decide;
    std::string candidates;
    std::size_t top_k;
    std::optional<double> alpha;
    bool not_sure;
    double abstain_below;
    bool shuffle_options;
    py::object context;
    bool attention;
    std::optional<std::pair<int, int>> attention_layers;
    std::string attention_reduce;
    std::optional<std::filesystem::path> heatmap_dir;
    std::optional<std::filesystem::path> lesion_mask;
    std::optional<std::string> lesion_box;
    std::uint32_t seed;
    float temperature;
    int max_tokens;

    DiagnoseRequest request() const {
        DiagnoseRequest r;
        r.labels = labels.value_or(std::vector<std::string>{});
        r.label_set = label_set;
        r.strategy = strategy;
        r.style = style;
        r.schema = schema;
        r.decide = decide;
        r.candidates = candidates;
        r.top_k = top_k;
        r.alpha = alpha;
        r.not_sure = not_sure;
        r.abstain_below = abstain_below;
        r.shuffle_options = shuffle_options;
        r.context = context_of(context);
        r.attention.enabled = attention;
        if (attention_layers) {
            r.attention.first_layer = attention_layers->first;
            r.attention.last_layer = attention_layers->second;
        }
        r.attention.reduce = attention_reduce;
        r.attention.heatmap_dir = heatmap_dir.value_or(std::filesystem::path{});
        r.lesion.mask_file = lesion_mask.value_or(std::filesystem::path{});
        r.lesion.box = lesion_box.value_or("");
        r.seed = seed;
        r.temperature = temperature;
        r.max_tokens = max_tokens;
        return r;
    }
};

// The report of docs/diagnose-json.md as a dict, with the attention maps as NumPy arrays
// ("heatmaps": {"label": rows x columns, "all": ...}) when they were asked for.
py::object report_of(const Diagnosis & diagnosis) {
    py::dict report = to_python(to_json(diagnosis));
    if (!diagnosis.attention.empty()) {
        py::dict heatmaps;
        for (const AttentionMap & map : diagnosis.attention) {
            py::array_t<float> values({map.rows, map.columns});
            std::copy(map.values.begin(), map.values.end(), values.mutable_data());
            heatmaps[py::str(map.name)] = values;
        }
        report["heatmaps"] = heatmaps;
    }
    return report;
}

py::dict image_info_of(const ImageInfo & image) {
    py::dict out;
    out["name"] = image.name;
    out["sha256"] = image.sha256;
    out["width"] = image.width;
    out["height"] = image.height;
    out["from_cache"] = image.from_cache;
    return out;
}

py::dict engine_info_of(const EngineInfo & info) {
    py::dict out;
    out["model"] = py::dict(py::arg("path") = info.model.path.string(), py::arg("sha256") = info.model.sha256);
    out["mmproj"] = py::dict(py::arg("path") = info.mmproj.path.string(), py::arg("sha256") = info.mmproj.sha256);
    if (info.probe) {
        out["probe"] = py::dict(py::arg("path") = info.probe->path.string(), py::arg("classes") = info.probe->classes,
                                py::arg("label_set") = info.probe->label_set,
                                py::arg("feature_kind") = info.probe->feature_kind,
                                py::arg("fusion_weight") = info.probe->fusion_weight);
    } else {
        out["probe"] = py::none();
    }
    out["embedding_cache"] = info.embedding_cache.empty() ? py::object(py::none()) : py::str(info.embedding_cache.string());
    out["data_dir"] = info.data_dir.string();
    out["threads"] = info.threads;
    out["parallel"] = info.parallel;
    out["busy_sessions"] = info.busy_sessions;
    out["context_size"] = info.context_size;
    out["batch_size"] = info.batch_size;
    out["flash_attention"] = flash_attention_name(info.flash_attention);
    out["vision_flash_attention"] = flash_attention_name(info.vision_flash_attention);
    out["flash_attention_ran"] = flash_attention_name(info.flash_attention_ran);
    out["vision_flash_attention_ran"] = flash_attention_name(info.vision_flash_attention_ran);
    out["flash_attention_why"] = info.flash_attention_why;
    out["vision_flash_attention_why"] = info.vision_flash_attention_why;
    out["capture_attention"] = info.capture_attention;
    out["encoder_runs"] = info.encoder_runs;
    out["cache_hits"] = info.cache_hits;
    out["warnings"] = info.warnings;
    return out;
}

std::unique_ptr<Engine> make_engine(const std::filesystem::path & model, const std::filesystem::path & mmproj,
                                    const std::optional<std::filesystem::path> & probe,
                                    const std::optional<std::filesystem::path> & cache, int threads, int parallel,
                                    int context_size,
                                    int batch_size, const std::string & flash_attention,
                                    const std::string & vision_flash_attention, bool capture_attention,
                                    bool reuse_prefix, const std::vector<std::filesystem::path> & kb_overlays,
                                    const std::optional<std::filesystem::path> & data_dir,
                                    const std::string & conformal_score, bool per_class_calibration) {
    EngineParams params;
    params.model = model;
    params.mmproj = mmproj;
    params.probe = probe.value_or(std::filesystem::path{});
    params.embedding_cache = cache.value_or(std::filesystem::path{});
    params.threads = threads;
    params.parallel = parallel;
    params.context_size = context_size;
    params.batch_size = batch_size;
    params.flash_attention = flash_attention_of(flash_attention, "flash_attention");
    params.vision_flash_attention = flash_attention_of(vision_flash_attention, "vision_flash_attention");
    params.capture_attention = capture_attention;
    params.reuse_prefix = reuse_prefix;
    params.kb_overlays = kb_overlays;
    params.data_dir = data_dir.value_or(std::filesystem::path{});
    params.conformal_score = conformal_score;
    params.per_class_calibration = per_class_calibration;
    const py::gil_scoped_release release;
    return std::make_unique<Engine>(std::move(params));
}

constexpr const char * kEngineDoc = R"(A loaded model pair (GGUF text model + vision projector) with the knowledge base, an
optional few-shot probe and an optional embedding cache: load once, diagnose many images.

Engine(model, mmproj, *, probe=None, cache=None, threads=0, parallel=1, context_size=4096, batch_size=512,
       flash_attention="auto", vision_flash_attention="auto", capture_attention=False,
       reuse_prefix=True, kb_overlays=(), data_dir=None, conformal_score="",
       per_class_calibration=False)

threads=0 uses every core. parallel=N lets N calls from different Python threads decode at once
(the model loaded once, a KV cache per call, the threads shared among them); more calls wait.
capture_attention=True makes attention maps possible
(diagnose(attention=True)). Raises dermlens.InvalidArgument for bad parameters,
dermlens.InvalidModel for unusable model files, dermlens.InvalidInput for a bad probe or cache.
Calls from several threads are safe; beyond `parallel` of them they run one after another.)";

constexpr const char * kDiagnoseDoc = R"(Diagnose one image and return the report of `dermlens diagnose --json` as a dict.

image: a path, encoded bytes, an H x W x 3 uint8 RGB NumPy array, or an EncodedImage from encode().
labels / label_set: the classes to choose among (with a probe: the probe's classes).
strategy: direct | in-context | describe-then-decide | topk | combined. style, schema, decide,
candidates, top_k, alpha, not_sure, abstain_below, shuffle_options, seed, temperature and
max_tokens are those of the CLI (docs/pipeline.md). context: a dict with age, sex, site, history,
fitzpatrick. attention=True (the Engine must capture attention) adds the grounding statistics and
report["heatmaps"] = {"label": array, "all": array} (rows x columns of the encoder's grid).
progress(stage, step, total) is called as the call advances; an exception it raises stops the call.
quality: the image-quality gate, as `diagnose --quality`: "off" (default), "report" (its verdict in
report["quality"]) or "reject" (a rejected image is not diagnosed: the report is the refused one,
{"image", "quality", "refused", "timings"}); not for an EncodedImage, which holds no pixels.

The GIL is released while the model runs; Ctrl-C stops the call within one decoded token with
KeyboardInterrupt, and the Engine stays usable.)";

}  // namespace

void register_engine(py::module_ & module) {
    py::class_<EncodedImage>(module, "EncodedImage",
                             "One image through the vision encoder, reusable for any number of diagnoses "
                             "(Engine.encode). Its feature arrays are read-only views, not copies.")
        .def_property_readonly("image", [](const EncodedImage & e) { return image_info_of(e.image); },
                               "The image: name, sha256, width, height, from_cache.")
        .def_property_readonly(
            "encoder_mean",
            [](py::object self) { return array_over(self.cast<const EncodedImage &>().encoder_mean(), self); },
            "The encoder's last hidden state, mean over tokens: the probe's features (float32).")
        .def_property_readonly(
            "projected_mean",
            [](py::object self) { return array_over(self.cast<const EncodedImage &>().projected_mean(), self); },
            "The mean of the projected image embeddings the text model reads (float32).")
        .def_property_readonly("image_tokens", &EncodedImage::image_tokens, "Tokens the text model reads.")
        .def_property_readonly("encode_ms", &EncodedImage::encode_ms,
                               "Milliseconds the encoder took (0 when the encoding came from the cache).")
        .def("__repr__", [](const EncodedImage & e) {
            return "<dermlens.EncodedImage " + e.image.name + ", " + std::to_string(e.image_tokens()) + " tokens>";
        });

    py::class_<Engine>(module, "Engine", kEngineDoc)
        .def(py::init(&make_engine), py::arg("model"), py::arg("mmproj"), py::kw_only(), py::arg("probe") = py::none(),
             py::arg("cache") = py::none(), py::arg("threads") = 0, py::arg("parallel") = 1,
             py::arg("context_size") = 4096,
             py::arg("batch_size") = 512, py::arg("flash_attention") = "auto",
             py::arg("vision_flash_attention") = "auto", py::arg("capture_attention") = false,
             py::arg("reuse_prefix") = true, py::arg("kb_overlays") = std::vector<std::filesystem::path>{},
             py::arg("data_dir") = py::none(), py::arg("conformal_score") = "",
             py::arg("per_class_calibration") = false)
        .def(
            "encode",
            [](Engine & engine, const py::object & image, const py::object & progress) {
                CallbackBridge bridge(progress);
                const Image decoded = to_image(image);
                return bridge.run([&] { return engine.encode(decoded, bridge.should_stop_callback()); });
            },
            py::arg("image"), py::kw_only(), py::arg("progress") = py::none(),
            "Encode an image (path, bytes or H x W x 3 uint8 array) once: the probe's features and the encoding "
            "that diagnose() reuses. Read from the embedding cache when the Engine has one that holds it.")
        .def(
            "diagnose",
            [](Engine & engine, const py::object & image, std::optional<std::vector<std::string>> labels,
               std::string label_set, std::string strategy, std::string style, std::string schema, std::string decide,
               std::string candidates, std::size_t top_k, std::optional<double> alpha, bool not_sure,
               double abstain_below, bool shuffle_options, py::object context, bool attention,
               std::optional<std::pair<int, int>> attention_layers, std::string attention_reduce,
               std::optional<std::filesystem::path> heatmap_dir, std::optional<std::filesystem::path> lesion_mask,
               std::optional<std::string> lesion_box, std::uint32_t seed, float temperature, int max_tokens,
               const py::object & progress, const std::string & quality) {
                const DiagnoseOptions options{std::move(labels),  std::move(label_set),   std::move(strategy),
                                              std::move(style),   std::move(schema),      std::move(decide),
                                              std::move(candidates), top_k,               alpha,
                                              not_sure,           abstain_below,          shuffle_options,
                                              std::move(context), attention,             attention_layers,
                                              std::move(attention_reduce), std::move(heatmap_dir),
                                              std::move(lesion_mask), std::move(lesion_box), seed, temperature,
                                              max_tokens};
                CallbackBridge bridge(progress);
                DiagnoseRequest request = options.request();
                request.progress = bridge.progress_callback();
                request.should_stop = bridge.should_stop_callback();
                const QualityGate gate = parse_quality_gate(quality);
                if (py::isinstance<EncodedImage>(image)) {
                    if (gate != QualityGate::Off) {
                        throw Error(ErrorKind::InvalidArgument,
                                    "quality: an EncodedImage holds no pixels to judge: pass the image itself", "quality");
                    }
                    return report_of(bridge.run([&] { return engine.diagnose(image.cast<const EncodedImage &>(), request); }));
                }
                const Image decoded = to_image(image);
                std::optional<QualityReport> verdict = bridge.run([&] { return run_quality_gate(decoded, gate); });
                if (refuses(gate, verdict)) {
                    return to_python(refused_to_json(decoded.name(), *verdict));
                }
                Diagnosis diagnosis = bridge.run([&] { return engine.diagnose(decoded, request); });
                diagnosis.quality = std::move(verdict);
                return report_of(diagnosis);
            },
            py::arg("image"), py::kw_only(), py::arg("labels") = py::none(), py::arg("label_set") = "",
            py::arg("strategy") = "direct", py::arg("style") = "dermlens", py::arg("schema") = "five-criteria",
            py::arg("decide") = "score", py::arg("candidates") = "topk", py::arg("top_k") = 5,
            py::arg("alpha") = py::none(), py::arg("not_sure") = false, py::arg("abstain_below") = 0.0,
            py::arg("shuffle_options") = false, py::arg("context") = py::none(), py::arg("attention") = false,
            py::arg("attention_layers") = py::none(), py::arg("attention_reduce") = "mean",
            py::arg("heatmap_dir") = py::none(), py::arg("lesion_mask") = py::none(),
            py::arg("lesion_box") = py::none(), py::arg("seed") = 0, py::arg("temperature") = 0.0f,
            py::arg("max_tokens") = 64, py::arg("progress") = py::none(), py::arg("quality") = "off", kDiagnoseDoc)
        .def(
            "info", [](const Engine & engine) { return engine_info_of(engine.info()); },
            "What is loaded: the model files with their SHA-256, the probe, the cache, the settings, how many "
            "images the encoder ran on and how many encodings came from the cache.")
        .def_property_readonly(
            "kb", [](const Engine & engine) -> const kb::KnowledgeBase & { return engine.kb(); },
            py::return_value_policy::reference_internal, "The knowledge base the Engine loaded (dermlens.kb.KnowledgeBase).");
}

}  // namespace dermlens::python

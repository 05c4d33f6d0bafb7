// POST /v1/diagnose: one image (multipart field `image`, or JSON `image` as a data URI or
// base64) and the per-call options of `diagnose` (dermlens/request_json.h reads them, from JSON
// or from form fields alike); the answer is the `diagnose --json` object of that image, with
// `heatmaps` as PNG data URIs when asked, and the image-quality gate's verdict as `quality`.
// With "quality": "reject" a rejected image is answered as `diagnose --quality reject` reports
// it, before the model runs (the gate runs in the worker, whose count bounds the images decoded
// at once).
#include "data_uri.h"
#include "request_parsing.h"
#include "server_state.h"

#include "dermlens/quality.h"
#include "dermlens/request_json.h"

#include <fmt/format.h>

#include <filesystem>
#include <unistd.h>

namespace dermlens::server {
namespace {

using nlohmann::ordered_json;
namespace fs = std::filesystem;

// A folder of this request's heat maps, removed with it.
struct ScratchDir {
    fs::path path;
    explicit ScratchDir(std::uint64_t id)
        : path(fs::temp_directory_path() / fmt::format("dermlens-serve-{}-{}", getpid(), id)) {
        fs::create_directories(path);
    }
    ~ScratchDir() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

void observe(Metrics & metrics, const Diagnosis & diagnosis) {
    metrics.count_encoding(diagnosis.image.from_cache);
    if (!diagnosis.image.from_cache) {
        metrics.observe_stage("encode", diagnosis.timings.encode_ms / 1000);
    }
    if (diagnosis.timings.describe_ms > 0) {
        metrics.observe_stage("describe", diagnosis.timings.describe_ms / 1000);
    }
    metrics.observe_stage("decide", diagnosis.timings.decide_ms / 1000);
}

void diagnose(ServerState & state, const httplib::Request & req, httplib::Response & res) {
    if (!state.ready) {
        send_error(res, unavailable("Loading model"));
        return;
    }
    DiagnoseCall call;
    try {
        if (req.is_multipart_form_data()) {
            std::vector<FormField> fields;
            for (const auto & [name, part] : req.files) {
                fields.push_back({name, part.filename, part.content});
            }
            call = diagnose_call_from_form(fields, image_limits(state.params));
        } else if (req.get_header_value("Content-Type").rfind("application/json", 0) == 0) {
            call = diagnose_call_from_json(req.body, image_limits(state.params));
        } else {
            send_error(res, unsupported_media("send the image as multipart/form-data (field 'image') or as "
                                              "application/json ({\"image\": \"data:...;base64,...\"})"));
            return;
        }
    } catch (const Error & e) {
        if (e.field() == "image") {
            state.metrics.count_refused_image("bad_base64");
        } else if (e.kind() == ErrorKind::InvalidInput) {
            state.metrics.count_refused_image("invalid_image");
        }
        throw;
    }
    if (!call.image) {
        state.metrics.count_refused_image("missing_image");
        send_error(res, bad_request("image: missing (multipart field 'image', or JSON key 'image')"));
        return;
    }
    DiagnoseRequest request = diagnose_request_from_json(call.options);
    std::shared_ptr<ScratchDir> scratch;
    if (call.heatmap) {
        scratch = std::make_shared<ScratchDir>(state.next_id++);
        request.attention.enabled = true;
        request.attention.heatmap_dir = scratch->path;
    }
    const Image image = *call.image;
    const QualityGate quality = call.quality;
    const auto outcome = run_inference<ordered_json>(state, req, [&state, request, image, quality, scratch](const ShouldStopCallback & stop) mutable {
        request.should_stop = stop;
        Diagnosis diagnosis;
        try {
            std::optional<QualityReport> gate = run_quality_gate(image, quality);  // reported as `diagnose` does
            if (refuses(quality, gate)) {
                state.metrics.count_refused_image("quality");
                return refused_to_json(image.name(), *gate);
            }
            diagnosis = state.engine->diagnose(image, request);
            diagnosis.quality = std::move(gate);
        } catch (const Error & e) {
            if (e.kind() == ErrorKind::InvalidInput) state.metrics.count_refused_image("invalid_image");
            throw;
        }
        observe(state.metrics, diagnosis);
        ordered_json report = to_json(diagnosis);
        if (scratch) {
            report["heatmaps"] = {{"label", fs::exists(scratch->path / "label.png") ? ordered_json(png_data_uri(scratch->path / "label.png")) : ordered_json(nullptr)},
                                  {"all", png_data_uri(scratch->path / "all.png")}};
        }
        return report;
    });
    send_outcome(state, res, outcome);
}

}  // namespace

void add_diagnose_route(ServerState & state) {
    state.http.Post("/v1/diagnose", guarded([&state](const httplib::Request & req, httplib::Response & res) {
        diagnose(state, req, res);
    }));
}

}  // namespace dermlens::server

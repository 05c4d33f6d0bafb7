// GET /health, /v1/info, /v1/kb/conditions/{name}, /v1/kb/labelsets/{name}, /metrics.
#include "server_state.h"

#include "kb/report_json.h"
#include "pipeline/prompt.h"

#include <filesystem>

namespace dermlens::server {
namespace {

using nlohmann::ordered_json;

ordered_json file_json(const FileInfo & file) {
    return {{"name", file.path.filename().string()}, {"sha256", file.sha256}};
}

ordered_json probe_json(const std::optional<ProbeInfo> & probe) {
    if (!probe) {
        return nullptr;
    }
    return {{"name", probe->path.filename().string()},
            {"classes", probe->classes},
            {"label_set", probe->label_set},
            {"feature_kind", probe->feature_kind},
            {"fusion_weight", probe->fusion_weight ? ordered_json(*probe->fusion_weight) : ordered_json(nullptr)}};
}

ordered_json strategies_json() {
    using pipeline::Strategy;
    ordered_json names = ordered_json::array();
    for (const Strategy strategy : {Strategy::Direct, Strategy::InContext, Strategy::DescribeThenDecide, Strategy::TopK,
                                    Strategy::Combined}) {
        names.push_back(std::string(pipeline::strategy_name(strategy)));
    }
    return names;
}

ordered_json styles_json() {
    using pipeline::PromptStyle;
    ordered_json names = ordered_json::array();
    for (const PromptStyle style : {PromptStyle::Dermlens, PromptStyle::SkinVl, PromptStyle::SkinR1, PromptStyle::SkinFlow}) {
        names.push_back(std::string(pipeline::style_name(style)));
    }
    return names;
}

ordered_json label_sets_json(const kb::KnowledgeBase & base) {
    ordered_json sets = ordered_json::array();
    for (const auto & name : base.label_set_names()) {
        const kb::LabelSet & set = base.label_set(name);
        sets.push_back({{"name", name}, {"title", set.title}, {"labels", set.labels.size()}});
    }
    return sets;
}

// The routes that need the loaded model answer 503 until it is.
bool refuse_until_ready(const ServerState & state, httplib::Response & res) {
    if (!state.ready) {
        send_error(res, unavailable("Loading model"));
        return true;
    }
    return false;
}

}  // namespace

ordered_json info_json(const ServerState & state) {
    const EngineInfo info = state.engine->info();
    const ServerParams & p = state.params;
    return {{"model", file_json(info.model)},
            {"mmproj", file_json(info.mmproj)},
            {"architecture", state.architecture},
            {"probe", probe_json(info.probe)},
            {"strategies", strategies_json()},
            {"styles", styles_json()},
            {"label_sets", label_sets_json(state.engine->kb())},
            {"attention", info.capture_attention},
            {"embedding_cache", !info.embedding_cache.empty()},
            {"limits",
             {{"parallel", p.parallel},
              {"threads", info.threads},
              {"queue_size", p.queue_size},
              {"timeout_s", p.timeout_s},
              {"max_body_bytes", p.max_body_bytes},
              {"max_megapixels", p.max_megapixels},
              {"context_size", info.context_size}}}};
}

void add_info_routes(ServerState & state) {
    state.http.Get("/health", guarded([&state](const httplib::Request &, httplib::Response & res) {
        if (refuse_until_ready(state, res)) return;
        const LiveGauges live = state.live();
        send_json(res, 200,
                  {{"status", "ok"},
                   {"model", state.engine_params.model.filename().string()},
                   {"queue_depth", live.queue_waiting},
                   {"in_flight", live.in_flight}});
    }));
    state.http.Get("/v1/info", guarded([&state](const httplib::Request &, httplib::Response & res) {
        if (refuse_until_ready(state, res)) return;
        send_json(res, 200, state.info);
    }));
    state.http.Get("/v1/kb/conditions/(.+)", guarded([&state](const httplib::Request & req, httplib::Response & res) {
        if (refuse_until_ready(state, res)) return;
        const kb::KnowledgeBase & base = state.engine->kb();
        std::string id;
        try {
            id = base.resolve(req.matches[1].str());
        } catch (const Error & e) {
            send_error(res, not_found(e.what()));
            return;
        }
        send_json(res, 200, kb::condition_json(base, id));
    }));
    state.http.Get("/v1/kb/labelsets/(.+)", guarded([&state](const httplib::Request & req, httplib::Response & res) {
        if (refuse_until_ready(state, res)) return;
        const kb::KnowledgeBase & base = state.engine->kb();
        try {
            send_json(res, 200, kb::label_set_json(base, base.label_set(req.matches[1].str())));
        } catch (const Error & e) {
            send_error(res, not_found(e.what()));
        }
    }));
    state.http.Get("/metrics", guarded([&state](const httplib::Request &, httplib::Response & res) {
        res.set_content(state.metrics.render(state.live()), "text/plain; version=0.0.4");
    }));
}

}  // namespace dermlens::server

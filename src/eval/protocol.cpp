#include "eval/protocol.h"

#include "dermlens/error.h"
#include "eval/protocol_factories.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <functional>
#include <utility>

namespace dermlens::eval {
namespace {

using Factory = std::unique_ptr<Protocol> (*)();

const std::vector<std::pair<std::string, Factory>> & factories() {
    static const std::vector<std::pair<std::string, Factory>> all{
        {"paper000-ablation", make_paper000_ablation},
        {"paper000-shots", make_paper000_shots},
        {"paper000-gap", make_paper000_gap},
        {"skinvl-zeroshot", make_skinvl_zeroshot},
        {"probe-sft", make_probe_sft},
        {"skinvl-vqa", make_skinvl_vqa},
        {"skinr1-mcq", make_skinr1_mcq},
        {"skinflow-topk", make_skinflow_topk},
        {"granularity", make_granularity},
        {"fairness", make_fairness},
    };
    return all;
}

}  // namespace

std::vector<std::string> protocol_names() {
    std::vector<std::string> names;
    for (const auto & [name, factory] : factories()) {
        names.push_back(name);
    }
    return names;
}

std::unique_ptr<Protocol> make_protocol(const std::string & name) {
    for (const auto & [known, factory] : factories()) {
        if (known == name) {
            return factory();
        }
    }
    throw Error(ErrorKind::InvalidArgument,
                fmt::format("protocol '{}': unknown; choose one of {}", name, fmt::join(protocol_names(), ", ")),
                "protocol");
}

std::string item_key(const nlohmann::ordered_json & config, const std::string & image) {
    std::string key;
    for (const auto & [name, value] : config.items()) {
        key += fmt::format("{}={}|", name, value.is_string() ? value.get<std::string>() : value.dump());
    }
    return key + "image=" + image;
}

}  // namespace dermlens::eval

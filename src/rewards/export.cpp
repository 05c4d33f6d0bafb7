#include "rewards/export.h"

#include "common/atomic_file.h"
#include "dataset/manifest.h"
#include "dermlens/error.h"
#include "kb/multiple_choice.h"
#include "pipeline/data_files.h"
#include "pipeline/direct.h"
#include "pipeline/open_topk.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fstream>
#include <random>
#include <sstream>

namespace dermlens::rewards {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr std::string_view kQuestion = "What type of abnormality is present in this image?";  // paper 002 appendix D
constexpr std::size_t kCaptionValueChars = 60;  // data/grammars/description-skinflow.gbnf

// One training example before a trainer's layout is put on it.
struct Sample {
    std::string split;
    std::string data_source;  // "dermlens/<reward>": which reward scores it
    fs::path image;
    std::string prompt;    // the user's text after the image
    std::string response;  // sft: the assistant's text
    std::string item;      // the reward item as a JSON string (not sft)
    std::string solution;  // what it should answer: the correct letter, the label, the reference caption
    Json extra;            // extra_info
};

std::string replaced(std::string text, std::string_view placeholder, const std::string & value) {
    const auto at = text.find(placeholder);
    if (at == std::string::npos) {
        throw Error(ErrorKind::InvalidInput, fmt::format("prompt: no {} placeholder", placeholder));
    }
    return text.replace(at, placeholder.size(), value);
}

std::string read_bytes(const fs::path & path, const std::string & where) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput, fmt::format("{}: cannot read image '{}'", where, path.string()));
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

std::string base64(const std::string & bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()),
                                  reinterpret_cast<const unsigned char *>(bytes.data()), static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

std::string media_type(const fs::path & image) {
    std::string ext = image.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".jpg" || ext == ".jpeg") {
        return "image/jpeg";
    }
    if (ext == ".tif") {
        return "image/tiff";
    }
    return "image/" + ext.substr(ext.empty() ? 0 : 1);
}

std::string image_reference(const Sample & sample, ImageMode mode) {
    if (mode == ImageMode::Embed) {
        return "data:" + media_type(sample.image) + ";base64," +
               base64(read_bytes(sample.image, sample.extra.value("where", std::string())));
    }
    return fs::absolute(sample.image).lexically_normal().string();
}

Json user_parts(const std::string & text) {
    return Json::array({Json{{"type", "image"}}, Json{{"type", "text"}, {"text", text}}});
}

Json trl_row(const Sample & s, const std::string & image) {
    if (!s.response.empty()) {
        return {{"messages", Json::array({Json{{"role", "user"}, {"content", user_parts(s.prompt)}},
                                          Json{{"role", "assistant"},
                                               {"content", Json::array({Json{{"type", "text"}, {"text", s.response}}})}}})},
                {"images", Json::array({image})},
                {"extra_info", s.extra}};
    }
    return {{"prompt", Json::array({Json{{"role", "user"}, {"content", user_parts(s.prompt)}}})},
            {"images", Json::array({image})},
            {"data_source", s.data_source},
            {"ground_truth", s.item},
            {"solution", s.solution},
            {"extra_info", s.extra}};
}

Json verl_row(const Sample & s, const std::string & image) {
    const Json images = Json::array({Json{{"image", image}}});
    if (!s.response.empty()) {
        return {{"messages", Json::array({Json{{"role", "user"}, {"content", "<image>" + s.prompt}},
                                          Json{{"role", "assistant"}, {"content", s.response}}})},
                {"images", images},
                {"extra_info", s.extra}};
    }
    return {{"data_source", s.data_source},
            {"prompt", Json::array({Json{{"role", "user"}, {"content", "<image>" + s.prompt}}})},
            {"images", images},
            {"ability", "dermatology"},
            {"reward_model", {{"style", "rule"}, {"ground_truth", s.item}}},
            {"extra_info", s.extra}};
}

Json easyr1_row(const Sample & s, const std::string & image) {
    return {{"problem", "<image>" + s.prompt},
            {"answer", s.item},
            {"images", Json::array({image})},
            {"data_source", s.data_source},
            {"extra_info", s.extra}};
}

// A manifest row read for export: its split, image, label and condition.
struct Row {
    std::size_t index = 0;
    std::string where;
    std::string split;
    fs::path image;
    std::string label;
    std::string condition;
    const dataset::ManifestRow * source = nullptr;
};

std::vector<Row> read_rows(const kb::KnowledgeBase & kb, const dataset::Manifest & manifest, const ExportParams & params) {
    std::vector<Row> rows;
    for (std::size_t i = 0; i < manifest.rows.size(); ++i) {
        const auto & r = manifest.rows[i];
        Row row{i, manifest.where(r), r.split.empty() ? "train" : r.split, r.image, r.label, {}, &r};
        try {
            row.condition = params.label_set.empty() ? kb.resolve(r.label) : kb.resolve(r.label, params.label_set);
        } catch (const Error & e) {
            throw Error(ErrorKind::InvalidInput, fmt::format("{}: label '{}': {}", row.where, r.label, e.what()));
        }
        if (!fs::is_regular_file(row.image)) {
            throw Error(ErrorKind::InvalidInput, fmt::format("{}: image '{}' does not exist", row.where, row.image.string()));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

Json base_extra(const Row & row, std::string_view task) {
    return {{"split", row.split}, {"index", row.index}, {"task", task}, {"label", row.label},
            {"condition", row.condition}, {"image", fs::absolute(row.image).lexically_normal().string()},
            {"where", row.where}};
}

Sample mcq_sample(const kb::KnowledgeBase & kb, const Row & row, const ExportParams & params, std::uint64_t seed) {
    const auto label_set = params.label_set.empty() ? std::nullopt : std::optional<std::string_view>(params.label_set);
    const auto options = kb::sample_path_options(kb, row.condition, params.options, params.max_on_path, seed, label_set);
    const nlohmann::json item = skinr1_item(kb, row.condition, options, params.gran_normalise, params.label_set);
    std::string question(kQuestion);
    for (std::size_t i = 0; i < options.size(); ++i) {
        question += fmt::format(" {}: {}", pipeline::option_letter(i), item["option_names"][i].get<std::string>());
    }
    Json extra = base_extra(row, "mcq");
    for (std::size_t i = 0; i < options.size(); ++i) {  // the authors' option_reward_fn reads score_<LETTER>
        extra[fmt::format("score_{}", pipeline::option_letter(i))] = item["option_scores"][i];
    }
    extra["malignancy"] = item["malignancy"];
    return {row.split, "dermlens/skinr1", row.image, replaced(pipeline::read_prompt("skin-r1-rl"), "{question}", question),
            {}, item.dump(), item["correct"].get<std::string>(), std::move(extra)};
}

Sample topk_sample(const Row & row, const ExportParams & params) {
    const nlohmann::json item = topk_item(row.label, params.label_set);
    return {row.split, "dermlens/skinflow-topk", row.image, pipeline::open_topk_question(), {}, item.dump(), row.label,
            base_extra(row, "topk")};
}

std::optional<Sample> caption_sample(const Row & row, std::size_t column) {
    const std::string & text = row.source->metadata[column];
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
        return std::nullopt;
    }
    const auto reference = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    nlohmann::json item;
    try {
        item = caption_item(reference);
    } catch (const Error & e) {
        throw Error(ErrorKind::InvalidInput, fmt::format("{}: caption: {}", row.where, e.what()));
    }
    const std::string prompt =
        replaced(pipeline::read_prompt("describe-skinflow"), "{max_chars}", std::to_string(kCaptionValueChars));
    return Sample{row.split, "dermlens/skinflow-caption", row.image, prompt, {}, item.dump(),
                  item["reference"].dump(), base_extra(row, "caption")};
}

std::vector<Sample> sft_samples(const kb::KnowledgeBase & kb, const std::vector<Row> & rows, const ExportParams & params,
                                const ImageTextGenerator * writer) {
    std::map<std::string, std::vector<const Row *>> by_split;  // trajectories pair cases within a split only
    for (const auto & row : rows) {
        by_split[row.split].push_back(&row);
    }
    std::vector<Sample> samples;
    for (const auto & [split, split_rows] : by_split) {
        std::vector<Case> cases;
        for (const auto * row : split_rows) {
            cases.push_back({row->image, row->condition});
        }
        const auto trajectories = synthesize_trajectories(
            kb, cases, {params.seed, params.max_differential_per_diagnosis}, writer);
        for (const auto & t : trajectories) {
            const Row & row = *split_rows[t.case_index];
            Json extra = base_extra(row, "sft");
            extra.update({{"trajectory_type", t.type}, {"final", t.final_diagnosis}, {"primary", t.primary},
                          {"differential", t.differential}});
            samples.push_back({row.split, "dermlens/skinr1-sft", row.image, t.prompt, t.response, {}, {}, std::move(extra)});
        }
    }
    return samples;
}

std::size_t caption_column(const dataset::Manifest & manifest, const std::string & name) {
    const auto & columns = manifest.metadata_columns;
    const auto it = std::find(columns.begin(), columns.end(), name);
    if (it == columns.end()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("caption_column '{}': manifest '{}' has no such column", name, manifest.source.string()),
                    "caption_column");
    }
    return static_cast<std::size_t>(it - columns.begin());
}

}  // namespace

ExportTask parse_export_task(std::string_view name) {
    if (name == "mcq") return ExportTask::Mcq;
    if (name == "sft") return ExportTask::Sft;
    if (name == "caption") return ExportTask::Caption;
    if (name == "topk") return ExportTask::TopK;
    throw Error(ErrorKind::InvalidArgument, fmt::format("task '{}': must be mcq, sft, caption or topk", name), "task");
}

ExportFormat parse_export_format(std::string_view name) {
    if (name == "trl") return ExportFormat::Trl;
    if (name == "verl") return ExportFormat::Verl;
    if (name == "easyr1") return ExportFormat::EasyR1;
    throw Error(ErrorKind::InvalidArgument, fmt::format("format '{}': must be trl, verl or easyr1", name), "format");
}

ImageMode parse_image_mode(std::string_view name) {
    if (name == "path") return ImageMode::Path;
    if (name == "embed") return ImageMode::Embed;
    throw Error(ErrorKind::InvalidArgument, fmt::format("images '{}': must be path or embed", name), "images");
}

void ExportParams::validate() const {
    if (manifest.empty()) {
        throw Error(ErrorKind::InvalidArgument, "manifest: required", "manifest");
    }
    if (out.empty()) {
        throw Error(ErrorKind::InvalidArgument, "out: required", "out");
    }
    if (task == ExportTask::Sft && format == ExportFormat::EasyR1) {
        throw Error(ErrorKind::InvalidArgument, "format easyr1: EasyR1 trains by RL only; export sft for trl or verl",
                    "format");
    }
    if (options < 2 || options > pipeline::kMaxOptions) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("options {}: must be 2 to {}", options, pipeline::kMaxOptions),
                    "options");
    }
    if (max_on_path < 1 || max_on_path >= options) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("max_on_path {}: must be 1 to options - 1 ({})", max_on_path, options - 1), "max_on_path");
    }
}

fs::path split_file(const fs::path & out, const std::string & split) {
    if (split == "train") {
        return out;
    }
    fs::path file = out;
    return file.replace_filename(out.stem().string() + "." + split + out.extension().string());
}

ExportSummary export_training_data(const kb::KnowledgeBase & kb, const ExportParams & params,
                                   const ImageTextGenerator * writer) {
    params.validate();
    const dataset::Manifest manifest = dataset::read_manifest(params.manifest);
    const std::vector<Row> rows = read_rows(kb, manifest, params);

    ExportSummary summary;
    std::vector<Sample> samples;
    if (params.task == ExportTask::Sft) {
        samples = sft_samples(kb, rows, params, writer);
    } else {
        std::mt19937_64 rng(params.seed);
        const std::size_t column = params.task == ExportTask::Caption ? caption_column(manifest, params.caption_column) : 0;
        for (const auto & row : rows) {
            const std::uint64_t row_seed = rng();  // drawn for every row, so a row's options do not depend on the task
            if (params.task == ExportTask::Mcq) {
                samples.push_back(mcq_sample(kb, row, params, row_seed));
            } else if (params.task == ExportTask::TopK) {
                samples.push_back(topk_sample(row, params));
            } else if (auto sample = caption_sample(row, column)) {
                samples.push_back(std::move(*sample));
            } else {
                ++summary.skipped;
            }
        }
    }

    std::map<std::string, std::string> files;
    for (const auto & sample : samples) {
        const std::string image = image_reference(sample, params.images);
        const Json row = params.format == ExportFormat::Trl    ? trl_row(sample, image)
                         : params.format == ExportFormat::Verl ? verl_row(sample, image)
                                                               : easyr1_row(sample, image);
        // A model's text may end inside a UTF-8 sequence: write U+FFFD rather than fail the export.
        files[sample.split] += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        ++summary.rows[sample.split];
    }
    for (const auto & [split, text] : files) {
        const fs::path file = split_file(params.out, split);
        write_file_atomically(file, text, "training data file");
        summary.files[split] = file;
    }
    return summary;
}

}  // namespace dermlens::rewards

#include "eval/vqa_questions.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>

namespace dermlens::eval {
namespace {

[[noreturn]] void bad_line(const std::filesystem::path & file, std::size_t line, const std::string & why) {
    throw Error(ErrorKind::InvalidInput, fmt::format("VQA questions '{}' line {}: {}", file.string(), line, why),
                "manifest");
}

std::string text_field(const nlohmann::json & object, const char * name, const std::filesystem::path & file,
                       std::size_t line) {
    if (!object.contains(name) || !object[name].is_string()) {
        bad_line(file, line, fmt::format("no string field '{}'", name));
    }
    return object[name].get<std::string>();
}

}  // namespace

std::vector<std::size_t> VqaSet::questions_of(std::size_t image) const {
    std::vector<std::size_t> found;
    for (std::size_t q = 0; q < questions.size(); ++q) {
        if (questions[q].image == image) {
            found.push_back(q);
        }
    }
    return found;
}

VqaSet load_vqa_set(const std::filesystem::path & file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput, fmt::format("VQA questions '{}': cannot read it", file.string()), "manifest");
    }
    VqaSet set;
    set.dataset.manifest = file;
    std::map<std::string, std::size_t> image_index;
    std::size_t number = 0;
    for (std::string text; std::getline(in, text);) {
        ++number;
        if (text.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        const nlohmann::json object = nlohmann::json::parse(text, nullptr, false);
        if (!object.is_object()) {
            bad_line(file, number, "not a JSON object");
        }
        VqaQuestion question{0, number, text_field(object, "question", file, number),
                             text_field(object, "answer", file, number), "unspecified"};
        if (object.contains("modality") && object["modality"].is_string() && !object["modality"].get<std::string>().empty()) {
            question.modality = object["modality"].get<std::string>();
        }
        const std::string image = text_field(object, "image", file, number);
        auto [found, added] = image_index.emplace(image, set.dataset.images.size());
        if (added) {
            const std::filesystem::path path = std::filesystem::path(image).is_absolute() ? std::filesystem::path(image)
                                                                                           : file.parent_path() / image;
            if (!std::filesystem::is_regular_file(path)) {
                bad_line(file, number, fmt::format("image '{}' is not a file", path.string()));
            }
            EvalImage entry;
            entry.path = path;
            entry.image = image;
            entry.label = question.modality;
            entry.split = "test";
            set.dataset.images.push_back(std::move(entry));
        }
        question.image = found->second;
        set.questions.push_back(std::move(question));
    }
    if (set.questions.empty()) {
        throw Error(ErrorKind::InvalidInput, fmt::format("VQA questions '{}': no questions", file.string()), "manifest");
    }
    for (const VqaQuestion & question : set.questions) {
        if (std::find(set.dataset.classes.begin(), set.dataset.classes.end(), question.modality) ==
            set.dataset.classes.end()) {
            set.dataset.classes.push_back(question.modality);
        }
    }
    std::sort(set.dataset.classes.begin(), set.dataset.classes.end());
    for (EvalImage & image : set.dataset.images) {
        image.cls = static_cast<std::size_t>(
            std::find(set.dataset.classes.begin(), set.dataset.classes.end(), image.label) - set.dataset.classes.begin());
    }
    return set;
}

}  // namespace dermlens::eval

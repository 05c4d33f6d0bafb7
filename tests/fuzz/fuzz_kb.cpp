// Harness: a knowledge-base overlay folder (docs/kb-schema.md) read by KnowledgeBase::load,
// then `kb check` (KnowledgeBase::check) over it and the taxonomy queries on every condition.
// The input holds up to three files, separated by the line in the dictionary:
// conditions/fuzz.json, ddx.json, labelsets/fuzz.json (an empty part writes no file).
// Loading only the overlay keeps one input fast; the records it refers to need not exist,
// which is what check() must report.
#include "fuzz_kb.h"
#include "fuzz_support.h"

#include <array>

namespace {
constexpr std::string_view kFileSeparator = "\n--next-file--\n";
constexpr std::array<const char *, 3> kFiles{"kb/conditions/fuzz.json", "kb/ddx.json", "kb/labelsets/fuzz.json"};

void query_everything(const dermlens::kb::KnowledgeBase & kb) {
    for (const auto & id : kb.condition_ids()) {
        dermlens::fuzz::expect_only_dermlens_errors([&] {
            (void)kb.path_to_root(id);
            (void)kb.depth(id);
            (void)kb.descendants(id);
            (void)kb.siblings(id);
            (void)kb.malignancy(id);
            (void)kb.infectious(id);
            (void)kb.neighbours(id);
            (void)kb.label_uses(id);
            (void)kb.resolve(kb.condition(id).name);
        });
    }
    for (const auto & name : kb.label_set_names()) {
        dermlens::fuzz::expect_only_dermlens_errors([&] {
            for (const auto & label : kb.label_set(name).labels) {
                (void)kb.resolve(label.label, name);
            }
        });
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const auto parts = dermlens::fuzz::split_parts(dermlens::fuzz::as_text(data, size), kFileSeparator);
    dermlens::fuzz::clear_scratch();
    std::filesystem::create_directories(dermlens::fuzz::scratch_dir() / "kb");
    for (std::size_t i = 0; i < parts.size() && i < kFiles.size(); ++i) {
        if (!parts[i].empty()) {
            dermlens::fuzz::write_scratch(kFiles[i], parts[i]);
        }
    }
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto kb = dermlens::kb::KnowledgeBase::load({dermlens::fuzz::scratch_dir() / "kb"});
        (void)kb.check();
        query_everything(kb);
    });
    return 0;
}

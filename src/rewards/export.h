// Training data for the trainers the papers use, from a dataset manifest (docs/rewards.md):
//   mcq      Skin-R1's RL questions (4 options, 1-3 on the truth's path, per-option R_gran stored)
//   sft      Skin-R1's reasoning trajectories, types 1-3 (trajectory.h)
//   caption  SkinFlow stage I: the 12-field caption, the reference from the manifest's caption column
//   topk     SkinFlow stage II: the open top-6 diagnosis
// in the layout of TRL (conversational `prompt` / `messages` with image parts, `images`), VERL
// (`data_source`, `prompt` with <image>, `images`, `ability`, `reward_model.ground_truth`,
// `extra_info`) or EasyR1 (`problem` with <image>, `answer`, `images`), as JSON Lines. The ground
// truth is the reward item (dermlens/rewards.h) as a JSON string, the same in every format, so a
// trainer's reward call hands it back unchanged. One file per split of the manifest (rows with no
// split are train); byte-identical for the same inputs and seed.
#pragma once

#include "dermlens/rewards.h"
#include "rewards/trajectory.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace dermlens::rewards {

enum class ExportTask { Mcq, Sft, Caption, TopK };
enum class ExportFormat { Trl, Verl, EasyR1 };
enum class ImageMode { Path, Embed };  // an absolute path, or the file as a data: URI

ExportTask parse_export_task(std::string_view name);      // "mcq" | "sft" | "caption" | "topk"
ExportFormat parse_export_format(std::string_view name);  // "trl" | "verl" | "easyr1"
ImageMode parse_image_mode(std::string_view name);        // "path" | "embed"

struct ExportParams {
    ExportTask task = ExportTask::Mcq;
    ExportFormat format = ExportFormat::Trl;
    std::filesystem::path manifest;
    std::string label_set;  // the manifest's labels are this label set's; empty: condition names
    std::filesystem::path out;
    std::uint64_t seed = 0;
    ImageMode images = ImageMode::Path;
    GranNormalise gran_normalise = GranNormalise::Path;
    std::size_t options = 4;        // mcq: options per question
    std::size_t max_on_path = 3;    // mcq: at most this many on the truth's path
    std::size_t max_differential_per_diagnosis = 3;  // sft: types 2 and 3
    std::string caption_column = "caption";          // caption: the manifest column holding the reference JSON
    void validate() const;
};

struct ExportSummary {
    std::map<std::string, std::filesystem::path> files;  // split -> file written
    std::map<std::string, std::size_t> rows;             // split -> rows written
    std::size_t skipped = 0;                             // caption: rows without a reference caption
};

// The file a split goes to: `out` for train, else `out` with ".<split>" before its extension.
std::filesystem::path split_file(const std::filesystem::path & out, const std::string & split);

// Writes the files. `writer` (a VLM on the image) writes the trajectories' image-specific text
// for sft; without it they are templated. Throws Error(InvalidInput) naming the manifest line for
// a label the knowledge base cannot resolve or a malformed caption, Error(InvalidArgument) for
// bad parameters (EasyR1 has no SFT trainer: sft needs trl or verl).
ExportSummary export_training_data(const kb::KnowledgeBase & kb, const ExportParams & params,
                                   const ImageTextGenerator * writer = nullptr);

}  // namespace dermlens::rewards

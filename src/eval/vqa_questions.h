// The open questions of `dermlens eval --protocol skinvl-vqa` (paper 001 table 3: VQA on
// MM-Skin): a JSON Lines file, one question per line — "image" (relative to the file's folder),
// "question", "answer" (the reference), optional "modality" (clinical, dermoscopic, pathology …;
// "unspecified" when absent) — read as an evaluation dataset whose images are the distinct
// images in order of first appearance, all in the test split, each image's class its modality.
#pragma once

#include "eval/eval_dataset.h"

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::eval {

struct VqaQuestion {
    std::size_t image = 0;  // into the dataset's images
    std::size_t line = 0;   // of the file, 1-based
    std::string question;
    std::string reference;
    std::string modality;
};

struct VqaSet {
    EvalDataset dataset;  // classes: the modalities, sorted
    std::vector<VqaQuestion> questions;  // in file order

    std::vector<std::size_t> questions_of(std::size_t image) const;
};

// Throws Error(InvalidInput) naming the file and line of a line that is not a JSON object with
// string "image", "question" and "answer", of an image that is not a file, or for a file
// without questions.
VqaSet load_vqa_set(const std::filesystem::path & file);

}  // namespace dermlens::eval

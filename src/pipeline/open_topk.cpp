#include "pipeline/open_topk.h"

#include "pipeline/data_files.h"

namespace dermlens::pipeline {

std::string open_topk_question() {
    return read_prompt("skinflow-topk-open");
}

std::string open_topk_grammar() {
    return read_grammar("skinflow-topk-open");
}

}  // namespace dermlens::pipeline

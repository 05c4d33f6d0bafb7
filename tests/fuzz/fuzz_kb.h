// The knowledge base dermlens ships (data/kb), loaded once per process, for the harnesses whose
// parsers take one (importers, answer parsing, grading).
#pragma once

#include "dermlens/kb/knowledge_base.h"

namespace dermlens::fuzz {

inline const kb::KnowledgeBase & shipped_kb() {
    static const kb::KnowledgeBase kb = kb::KnowledgeBase::load({kb::KnowledgeBase::shipped_dir()});
    return kb;
}

}  // namespace dermlens::fuzz

// libFuzzer calls this once, before the first input and outside the per-input timeout: loading the
// knowledge base (a second or more under ASan on a busy machine) is no part of any input's cost.
// This header is included by one file per harness, so the function is defined once per binary.
extern "C" int LLVMFuzzerInitialize(int *, char ***) {
    (void)dermlens::fuzz::shipped_kb();
    return 0;
}

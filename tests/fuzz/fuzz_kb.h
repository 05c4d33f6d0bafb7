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

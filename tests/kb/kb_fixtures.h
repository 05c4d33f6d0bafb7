// The hand-written knowledge bases under tests/kb/fixtures/: mini/kb is a small sound
// KB, overlay/ a sound --kb overlay for it, broken/<defect>/ overlays that each add
// exactly one defect.
#pragma once

#include "dermlens/kb/knowledge_base.h"

#include <filesystem>
#include <string>

namespace dermlens::test {

inline std::filesystem::path kb_fixtures_dir() {
    return std::filesystem::path(DERMLENS_SOURCE_DIR) / "tests" / "kb" / "fixtures";
}

inline std::filesystem::path mini_kb_dir() {
    return kb_fixtures_dir() / "mini" / "kb";
}

inline std::filesystem::path broken_kb_dir(const std::string & defect) {
    return kb_fixtures_dir() / "broken" / defect;
}

inline const kb::KnowledgeBase & mini_kb() {
    static const kb::KnowledgeBase base = kb::KnowledgeBase::load({mini_kb_dir()});
    return base;
}

}  // namespace dermlens::test

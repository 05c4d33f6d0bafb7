// The shipped knowledge base (data/kb), loaded once per test binary.
#pragma once

#include "dermlens/kb.h"

namespace dermlens::test {

inline const kb::KnowledgeBase & shipped_kb() {
    static const kb::KnowledgeBase base = kb::KnowledgeBase::load({kb::KnowledgeBase::shipped_dir()});
    return base;
}

}  // namespace dermlens::test

// Asserts that an action is refused with a dermlens::Error of the expected kind whose
// message holds every expected fragment (the input's name, the reason). Test-only.
#pragma once

#include "dermlens/error.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

namespace dermlens::test {

inline void expect_error(const std::function<void()> & action, ErrorKind kind, const std::vector<std::string> & needles) {
    try {
        action();
        ADD_FAILURE() << "expected an error";
    } catch (const Error & e) {
        EXPECT_EQ(e.kind(), kind) << e.what();
        for (const auto & needle : needles) {
            EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "'" << needle << "' not in: " << e.what();
        }
    }
}

}  // namespace dermlens::test

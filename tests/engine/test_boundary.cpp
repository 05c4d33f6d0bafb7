// The library's boundary (src/engine/boundary.h): Error passes unchanged; any other exception
// (OpenCV's, the standard library's) leaves as Error(Runtime) naming the input.
#include "engine/boundary.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using dermlens::Error;
using dermlens::ErrorKind;
using dermlens::engine::at_boundary;
using dermlens::engine::image_subject;

Error caught(const std::function<void()> & body) {
    try {
        at_boundary(image_subject("x.jpg"), body);
    } catch (const Error & e) {
        return e;
    }
    ADD_FAILURE() << "nothing thrown";
    return Error(ErrorKind::Runtime, "");
}

TEST(Boundary, PassesTheResultThrough) {
    EXPECT_EQ(at_boundary("image 'x.jpg'", [] { return 42; }), 42);
    EXPECT_EQ(at_boundary("image 'x.jpg'", [] { return std::vector<int>{1, 2}; }), (std::vector<int>{1, 2}));
}

TEST(Boundary, AnErrorLeavesUnchanged) {
    const Error e = caught([] { throw Error(ErrorKind::InvalidArgument, "top_k: must be positive", "top_k"); });
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_EQ(e.field(), "top_k");
    EXPECT_STREQ(e.what(), "top_k: must be positive");
}

// What escaped before: OpenCV's assertion on an empty target size (a 4000 x 1 image reduced).
TEST(Boundary, AnOpenCvFailureBecomesARuntimeErrorNamingTheImage) {
    const Error e = caught([] {
        cv::Mat3b small;
        cv::resize(cv::Mat3b(1, 4000), small, {}, 0.128, 0.128, cv::INTER_AREA);
    });
    EXPECT_EQ(e.kind(), ErrorKind::Runtime);
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("image 'x.jpg': internal error: ", 0), 0u) << message;
    EXPECT_NE(message.find("dsize"), std::string::npos) << message;  // OpenCV's own words follow
}

TEST(Boundary, OutOfMemoryAndOtherStandardExceptionsBecomeRuntimeErrors) {
    const Error memory = caught([] { throw std::bad_alloc(); });
    EXPECT_EQ(memory.kind(), ErrorKind::Runtime);
    EXPECT_STREQ(memory.what(), "image 'x.jpg': out of memory");
    const Error range = caught([] { throw std::out_of_range("vector::at"); });
    EXPECT_EQ(range.kind(), ErrorKind::Runtime);
    EXPECT_STREQ(range.what(), "image 'x.jpg': internal error: vector::at");
}

}  // namespace

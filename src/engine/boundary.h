// The library's boundary (include/dermlens/error.h): a public call throws Error and nothing else.
// An exception of another type escaping from below (OpenCV's cv::Exception, the standard
// library's) is a defect of dermlens or of a library under it, not of the caller's input. It
// leaves as Error(Runtime) naming what the call worked on, so that a front end reports it for
// that image and a batch goes on with the next one (stops_batch): nothing already computed is
// lost to one image's failure.
#pragma once

#include "dermlens/error.h"

#include <new>
#include <string>

namespace dermlens::engine {

// `subject` names the input in the message: "image 'x.jpg'".
template <class Body>
auto at_boundary(const std::string & subject, Body && body) -> decltype(body()) {
    try {
        return body();
    } catch (const Error &) {
        throw;
    } catch (const std::bad_alloc &) {
        throw Error(ErrorKind::Runtime, subject + ": out of memory");
    } catch (const std::exception & e) {
        throw Error(ErrorKind::Runtime, subject + ": internal error: " + e.what());
    }
}

// "image 'NAME'", as the library's messages name an image.
inline std::string image_subject(const std::string & name) { return "image '" + name + "'"; }

}  // namespace dermlens::engine

// What the parts of the Python module (dermlens._dermlens) share: each part registers its
// classes and functions on the module, and the conversions between Python values and the
// library's types live in one place (convert.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <span>
#include <string>

namespace dermlens {
class Image;
}

namespace dermlens::python {

namespace py = pybind11;

void register_errors(py::module_ & module);
void register_engine(py::module_ & module);
void register_kb(py::module_ & module);
void register_probe(py::module_ & module);
void register_metrics(py::module_ & module);
void register_rewards(py::module_ & module);
void register_quality(py::module_ & module);

// A JSON value as the Python value json.loads gives (dicts keep their key order).
py::object to_python(const nlohmann::ordered_json & value);
py::object to_python(const nlohmann::json & value);

// An image from a path (str or os.PathLike), encoded bytes (bytes, bytearray, memoryview) or
// decoded pixels (a NumPy H x W x 3 uint8 array). Throws Error(InvalidInput) naming `field`
// for anything else.
Image to_image(const py::handle & value, const std::string & field = "image");

// A read-only NumPy array over `values`, kept alive by `owner` (nothing is copied).
template <typename T>
py::array_t<T> array_over(std::span<const T> values, py::object owner) {
    py::array_t<T> array({static_cast<py::ssize_t>(values.size())}, {static_cast<py::ssize_t>(sizeof(T))},
                         values.data(), owner);
    py::detail::array_proxy(array.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
    return array;
}

}  // namespace dermlens::python

#include "bindings.h"

#include "dermlens/error.h"
#include "dermlens/image.h"

#include <cstdint>
#include <filesystem>

namespace dermlens::python {

py::object to_python(const nlohmann::ordered_json & value) {
    return py::module_::import("json").attr("loads")(value.dump());
}

py::object to_python(const nlohmann::json & value) {
    return py::module_::import("json").attr("loads")(value.dump());
}

namespace {

Image image_from_array(const py::array & array, const std::string & field) {
    if (array.ndim() != 3 || array.shape(2) != 3 || !py::dtype::of<std::uint8_t>().is(array.dtype())) {
        throw Error(ErrorKind::InvalidInput,
                    field + ": a NumPy image must be an H x W x 3 uint8 array (RGB), not " +
                        py::str(array.attr("shape")).cast<std::string>() + " " +
                        py::str(array.dtype()).cast<std::string>(),
                    field);
    }
    const auto pixels = py::array_t<std::uint8_t, py::array::c_style>::ensure(array);
    const auto bytes = std::span<const std::uint8_t>(pixels.data(), static_cast<std::size_t>(pixels.size()));
    return Image::from_rgb(static_cast<int>(array.shape(1)), static_cast<int>(array.shape(0)), bytes, "<array>");
}

}  // namespace

Image to_image(const py::handle & value, const std::string & field) {
    if (py::isinstance<py::str>(value) || py::hasattr(value, "__fspath__")) {
        const std::string path = py::module_::import("os").attr("fsdecode")(value).cast<std::string>();
        return Image::from_file(std::filesystem::path(path));
    }
    if (py::isinstance<py::array>(value)) {
        return image_from_array(py::reinterpret_borrow<py::array>(value), field);
    }
    if (PyObject_CheckBuffer(value.ptr()) != 0) {
        const py::buffer_info buffer = py::reinterpret_borrow<py::buffer>(value).request();
        if (buffer.itemsize != 1 || buffer.ndim != 1 || buffer.strides[0] != 1) {
            throw Error(ErrorKind::InvalidInput, field + ": encoded image bytes must be one contiguous byte buffer",
                        field);
        }
        const auto * data = static_cast<const std::uint8_t *>(buffer.ptr);
        return Image::from_bytes({data, static_cast<std::size_t>(buffer.size)}, "<bytes>");
    }
    throw Error(ErrorKind::InvalidInput,
                field + ": expected a path, encoded bytes or an H x W x 3 uint8 NumPy array, not " +
                    py::str(value.get_type().attr("__name__")).cast<std::string>(),
                field);
}

}  // namespace dermlens::python

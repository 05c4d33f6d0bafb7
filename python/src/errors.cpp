// dermlens::Error as Python exceptions: dermlens.Error and one subclass per ErrorKind
// (dermlens.InvalidArgument, .InvalidInput, .InvalidModel, .Runtime, .Cancelled), each carrying
// `kind` ("invalid_input", ...), `message` and `field` (the parameter a message is about, or None).
// InvalidArgument and InvalidInput are also ValueErrors, Runtime a RuntimeError.
#include "bindings.h"

#include "dermlens/error.h"

#include <array>

namespace dermlens::python {
namespace {

struct ErrorClass {
    ErrorKind kind;
    const char * name;
    PyObject * also;  // a built-in exception the class also derives from, or nullptr
    const char * doc;
};

const std::array<ErrorClass, 5> & error_classes() {
    static const std::array<ErrorClass, 5> classes{{
        {ErrorKind::InvalidArgument, "InvalidArgument", PyExc_ValueError,
         "A bad parameter value or an unknown label; `field` names the parameter."},
        {ErrorKind::InvalidInput, "InvalidInput", PyExc_ValueError,
         "An unreadable, corrupt or oversized image, or a bad CSV, JSON, probe or feature file."},
        {ErrorKind::InvalidModel, "InvalidModel", nullptr,
         "A missing, non-GGUF, truncated or mismatched model file."},
        {ErrorKind::Runtime, "Runtime", PyExc_RuntimeError, "Inference failed (out of memory, a decode error)."},
        {ErrorKind::Cancelled, "Cancelled", nullptr, "The call was cancelled by its should-stop callback."},
    }};
    return classes;
}

// The Python class of each kind, created once and kept for the life of the process.
std::array<PyObject *, 5> & kind_classes() {
    static std::array<PyObject *, 5> classes{};
    return classes;
}

}  // namespace

void register_errors(py::module_ & module) {
    PyObject * base = PyErr_NewExceptionWithDoc(
        "dermlens.Error",
        "Any error dermlens reports: `kind` (\"invalid_argument\", \"invalid_input\", \"invalid_model\", "
        "\"runtime\", \"cancelled\"), `message`, and `field` (the parameter the message is about, or None).",
        PyExc_Exception, nullptr);
    if (base == nullptr) {
        throw py::error_already_set();
    }
    module.add_object("Error", py::handle(base));
    for (std::size_t i = 0; i < error_classes().size(); ++i) {
        const ErrorClass & c = error_classes()[i];
        py::tuple bases = c.also != nullptr ? py::make_tuple(py::handle(base), py::handle(c.also))
                                            : py::make_tuple(py::handle(base));
        const std::string qualified = std::string("dermlens.") + c.name;
        PyObject * cls = PyErr_NewExceptionWithDoc(qualified.c_str(), c.doc, bases.ptr(), nullptr);
        if (cls == nullptr) {
            throw py::error_already_set();
        }
        kind_classes()[static_cast<std::size_t>(c.kind)] = cls;
        module.add_object(c.name, py::handle(cls));
    }
    py::register_exception_translator([](std::exception_ptr thrown) {
        try {
            if (thrown) {
                std::rethrow_exception(thrown);
            }
        } catch (const Error & e) {
            PyObject * cls = kind_classes()[static_cast<std::size_t>(e.kind())];
            py::object instance = py::reinterpret_borrow<py::object>(cls)(e.what());
            instance.attr("kind") = error_kind_name(e.kind());
            instance.attr("message") = e.what();
            instance.attr("field") = e.field().empty() ? py::object(py::none()) : py::object(py::str(e.field()));
            PyErr_SetObject(cls, instance.ptr());
        }
    });
}

}  // namespace dermlens::python

// dermlens._dermlens: the native part of the `dermlens` Python package (docs/python.md).
#include "bindings.h"

#include "common/data_dir.h"
#include "dermlens/version.h"

PYBIND11_MODULE(_dermlens, module) {
    namespace py = pybind11;
    module.doc() = "dermlens: grounded dermatological diagnosis with vision-language models (native part).";
    module.attr("__version__") = dermlens::version();
    module.attr("llama_cpp_commit") = dermlens::llama_cpp_commit();
    module.def(
        "data_dir", [] { return dermlens::data_dir().string(); },
        "The data folder in use (knowledge base, prompts, grammars): the one set by set_data_dir(), else "
        "$DERMLENS_DATA_DIR, else the installed package's share/dermlens, else the source tree's data/.");
    module.def(
        "set_data_dir", [](const std::string & dir) { dermlens::set_data_dir(dir); }, py::arg("path"),
        "Read data files from `path` from now on (process-wide; an empty path restores the default lookup).");
    dermlens::python::register_errors(module);
    dermlens::python::register_engine(module);
    dermlens::python::register_kb(module);
    dermlens::python::register_probe(module);
    dermlens::python::register_metrics(module);
    dermlens::python::register_rewards(module);
    dermlens::python::register_quality(module);
}

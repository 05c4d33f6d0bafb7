// dermlens.assess_quality: the image-quality gate (dermlens/quality.h, docs/quality.md) for
// Python, so that a caller can refuse a blurred, dark or off-target photo before diagnosing it.
// The result is the object `dermlens quality --json` prints for the image.
#include "bindings.h"

#include "dermlens/image.h"
#include "dermlens/quality.h"

#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <filesystem>
#include <optional>
#include <string>

namespace dermlens::python {
namespace {

py::object assess(const py::handle & image, const std::optional<std::filesystem::path> & thresholds,
                  const std::optional<std::string> & modality,
                  const std::optional<std::filesystem::path> & modality_library) {
    QualityParams params;
    params.thresholds = thresholds.value_or(std::filesystem::path());
    params.modality = modality.value_or("");
    params.modality_library = modality_library.value_or(std::filesystem::path());
    params.validate();
    const Image pixels = to_image(image);
    const QualityReport report = [&] {
        const py::gil_scoped_release release;
        return assess_quality(pixels, params);
    }();
    return to_python(to_json(report));
}

}  // namespace

void register_quality(py::module_ & module) {
    module.def("assess_quality", &assess, py::arg("image"), py::kw_only(), py::arg("thresholds") = py::none(),
               py::arg("modality") = py::none(), py::arg("modality_library") = py::none(),
               R"(The image-quality gate on one image: is it good enough to diagnose, and if not, why.

image: a path, encoded bytes or an H x W x 3 uint8 RGB NumPy array.
thresholds: a thresholds file (default: the data folder's quality/thresholds.json).
modality: "clinical", "dermoscopic" or "pathology"; the skin checks skip a pathology slide.
modality_library: a library of `dermlens data modality build` that classifies the modality.

Returns the object `dermlens quality --json` prints: path, width, height, overall ("pass",
"warn" or "reject"), the checks with score, thresholds, verdict and reason, and elapsed_ms.
Raises InvalidInput for an image that cannot be decoded or a malformed thresholds file, and
InvalidArgument for a missing file or an unknown modality.)");
}

}  // namespace dermlens::python

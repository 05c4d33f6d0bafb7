// Harness: loading a probe file (src/probe/probe.h load_probe): JSON syntax, the format
// string, every field's type and shape, calibration and fusion blocks; a probe that loads must
// then be usable (probabilities for one feature row), so validation misses show up here.
#include "fuzz_support.h"

#include "probe/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t * data, std::size_t size) {
    const auto path = dermlens::fuzz::write_scratch("probe.json", dermlens::fuzz::as_text(data, size));
    dermlens::fuzz::expect_only_dermlens_errors([&] {
        const auto probe = dermlens::probe::load_probe(path);
        if (probe.dimension <= 4096) {
            const Eigen::MatrixXf row = Eigen::MatrixXf::Ones(1, static_cast<Eigen::Index>(probe.dimension));
            const Eigen::MatrixXd p = probe.probabilities(row);
            if (p.rows() != 1 || p.cols() != static_cast<Eigen::Index>(probe.classes.size())) {
                std::abort();
            }
        }
    });
    return 0;
}

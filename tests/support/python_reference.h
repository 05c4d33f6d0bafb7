// Runs an independent reference script (scikit-learn, numpy, scipy) with the python3 the build
// was configured with (DERMLENS_PYTHON) and parses the JSON it prints. Test-only.
#pragma once

#include "support/run_process.h"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace dermlens::test {

// `script` is relative to the source tree, e.g. "tests/metrics/metrics_reference.py". A script that
// fails throws, with its stderr, so the test reports the Python error rather than a JSON parse error.
inline nlohmann::json python_reference(const std::string & script, const std::vector<std::string> & args) {
    std::vector<std::string> argv = {DERMLENS_PYTHON, std::string(DERMLENS_SOURCE_DIR) + "/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult result = run_process(argv);
    if (result.exit_code != 0) {
        throw std::runtime_error(script + " exited with " + std::to_string(result.exit_code) + ": " + result.err);
    }
    return nlohmann::json::parse(result.out);
}

}  // namespace dermlens::test

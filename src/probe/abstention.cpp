#include "probe/abstention.h"

#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace dermlens::probe {
namespace {

// p with two significant digits, or as many more as it takes not to print a value
// below the threshold as the threshold itself ("0.4996 is below 0.5", not "0.50").
std::string below_threshold_text(double p, double threshold) {
    std::string text = fmt::format("{:.2g}", p);
    for (int digits = 3; digits <= 17 && std::strtod(text.c_str(), nullptr) >= threshold; ++digits) {
        text = fmt::format("{:.{}g}", p, digits);
    }
    return text;
}

}  // namespace

void AbstentionParams::validate() const {
    if (!(threshold >= 0.0 && threshold <= 1.0)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("abstention threshold {} is outside [0, 1] (0 = never abstain)", threshold));
    }
}

Decision decide(const std::vector<double> & probabilities, std::optional<std::size_t> not_sure_index,
                const AbstentionParams & params) {
    params.validate();
    if (not_sure_index.has_value() != params.not_sure_option) {
        throw Error(ErrorKind::InvalidArgument,
                    params.not_sure_option ? "abstention: the 'not sure' option is on, but no option is 'not sure'"
                                           : "abstention: an option is 'not sure', but the 'not sure' option is off");
    }
    if (not_sure_index && *not_sure_index >= probabilities.size()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("abstention: the 'not sure' option is option {}, but there are {} options",
                                *not_sure_index, probabilities.size()));
    }
    if (probabilities.size() < (not_sure_index ? 2u : 1u)) {
        throw Error(ErrorKind::InvalidInput, not_sure_index ? "abstention: no option to choose besides 'not sure'"
                                                            : "abstention: no options to choose from");
    }
    double sum = 0.0;
    for (std::size_t i = 0; i < probabilities.size(); ++i) {
        if (!(probabilities[i] >= 0.0) || !std::isfinite(probabilities[i])) {
            throw Error(ErrorKind::InvalidInput,
                        fmt::format("abstention: the probability of option {} is {}, not a finite number >= 0", i,
                                    probabilities[i]));
        }
        sum += probabilities[i];
    }
    if (!(sum > 0.0)) {
        throw Error(ErrorKind::InvalidInput, "abstention: the option probabilities are all 0");
    }

    Decision decision;
    const auto winner = static_cast<std::size_t>(std::max_element(probabilities.begin(), probabilities.end()) -
                                                 probabilities.begin());  // the first maximum
    if (winner == not_sure_index) {
        decision.abstained = true;
        decision.reason = fmt::format("the model chose the 'not sure' option (p = {:.2f})", probabilities[winner] / sum);
        return decision;
    }
    // The winner is a real option, so the real options hold some probability.
    double real_sum = 0.0;
    for (std::size_t i = 0; i < probabilities.size(); ++i) {
        real_sum += i == not_sure_index ? 0.0 : probabilities[i];
    }
    const double top = probabilities[winner] / real_sum;
    if (top < params.threshold) {
        decision.abstained = true;
        decision.reason = fmt::format("top probability {} is below the threshold {}",
                                      below_threshold_text(top, params.threshold), params.threshold);
        return decision;
    }
    decision.choice = winner;
    return decision;
}

}  // namespace dermlens::probe

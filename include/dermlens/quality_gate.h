// dermlens::QualityGate — what a front end does with the image-quality gate before it diagnoses
// an image (`diagnose --quality`, the server's and Python's `quality`): not run, its report kept
// with the diagnosis, or a rejected image refused without running the model (docs/quality.md).
#pragma once

#include "dermlens/image.h"
#include "dermlens/quality.h"

#include <optional>
#include <string>

namespace dermlens {

enum class QualityGate { Off, Report, Reject };

// "off" | "report" | "reject"; throws Error(InvalidArgument) naming `field` for anything else.
QualityGate parse_quality_gate(const std::string & name, const std::string & field = "quality");

// The gate's report of `image` (assess_quality), or nullopt when `gate` is Off.
std::optional<QualityReport> run_quality_gate(const Image & image, QualityGate gate, const QualityParams & params = {});

// Whether `gate` refuses to diagnose an image so judged: Reject, and the report rejects it.
bool refuses(QualityGate gate, const std::optional<QualityReport> & report) noexcept;

}  // namespace dermlens

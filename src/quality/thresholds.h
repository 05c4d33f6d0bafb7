// The image-quality gate's thresholds and reasons: data/quality/thresholds.json
// (docs/quality.md, "Thresholds"), read and checked field by field.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace dermlens::quality {

struct CheckThresholds {
    std::string name;               // one of known_checks()
    bool worse_above = true;        // "worse_when": "above" (true) or "below"
    double warn_at = 0;
    double reject_at = 0;           // at or beyond warn_at, on the worse side
    std::string warn_reason;
    std::string reject_reason;
    // The modalities the check judges ("applies_to"; default: all of known_modalities()). The
    // skin checks do not apply to pathology slides.
    std::vector<std::string> applies_to;
};

struct Thresholds {
    int working_side = 512;         // the longer side the image is reduced to for the scale-dependent checks
    double lowest_skin_hue = -20;   // the wedge of skin hues in CIELAB's a*b* plane, degrees (the colour-cast check)
    double highest_skin_hue = 80;
    std::filesystem::path brisque_folder;  // BRISQUE's model and range files ("brisque_folder"; empty: none)
    std::vector<CheckThresholds> checks;  // those the gate runs, in report order
};

// The names a thresholds file may use, in docs/quality.md's order.
const std::vector<std::string> & known_checks();

// The modalities of MM-Skin (paper 001, 3.1.1): "clinical", "dermoscopic", "pathology".
const std::vector<std::string> & known_modalities();

// Reads and checks the file. Throws Error(InvalidInput) naming the file and the field: not
// JSON, another format or version, an unknown or repeated check, thresholds in the wrong
// order for `worse_when`, a missing reason.
Thresholds load_thresholds(const std::filesystem::path & file);

}  // namespace dermlens::quality

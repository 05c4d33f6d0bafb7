// Paper 001 (MM-Skin, ../shared/reference/001_*.txt, 3.1.1): "Some extracted images and texts do
// not align perfectly, as sub-figures share a single caption. We use regular expression matching
// to separate captions and align the image-text pairs accurately." The paper gives no patterns;
// these are dermlens's (../shared/design/papers-spec.md C.1, docs/data-tools.md):
//
//  - a panel marker is a label list in parentheses, "(A)", "(a, b)", "(A and B)", "(A-C)",
//    "(ii)", or a bare capital letter list followed by ",", ":" or ")" ("A, …", "B and C: …");
//  - the first marker must start at A (or a, or i) and follow the caption's start, whitespace or
//    ".;:"; each later marker must continue the sequence (its first label follows the last one)
//    and follow ".;:," or "and"/"or" (bare ones: only ".;"), so "the lesion in (A)" and
//    "compare (B)" are references, not markers;
//  - the text before the first marker is the shared lead ("Figure 3.2" numbers dropped); every
//    panel's caption is the lead followed by its own text;
//  - panels pair with the figure's image files in file-name order (a, b, c …): label k with the
//    k-th file. When the labels are not exactly one per image the figure is reported as a
//    mismatch and nothing is paired: never guessed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace dermlens::mmskin {

struct CaptionPanel {
    std::vector<std::string> labels;  // "A", "B" (letters upper-cased), or "i", "ii" (roman, lower-cased)
    std::vector<std::size_t> ordinals;  // 0 for A / i, …, one per label
    std::string text;                 // the panel's own text
    std::string caption;              // the lead and the panel's text: what its image is paired with
};

struct SplitCaption {
    std::string lead;                  // shared by every panel; "" when none
    std::vector<CaptionPanel> panels;  // empty: no panel markers
};

SplitCaption split_caption(std::string_view caption);

struct ImageCaption {
    std::string image;
    std::string panel;    // the image's label ("" for a figure without markers)
    std::string caption;
};

struct FigurePairing {
    std::vector<ImageCaption> pairs;  // empty when `mismatch` says why
    std::string mismatch;             // "" when paired
};

// Pairs the panels with `images` (sorted by file name here). A caption without markers pairs with
// a single image; anything but one label per image is a mismatch.
FigurePairing pair_panels(const SplitCaption & split, std::vector<std::string> images);

}  // namespace dermlens::mmskin

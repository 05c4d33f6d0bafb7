#include "grounding/lesion_mask.h"

#include "dermlens/error.h"

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <string_view>
#include <vector>

namespace dermlens::grounding {

const char * mask_source_name(MaskSource source) noexcept {
    switch (source) {
        case MaskSource::File: return "file";
        case MaskSource::Box: return "box";
        case MaskSource::Auto: return "auto";
        case MaskSource::AutoFallback: return "auto-fallback";
    }
    return "auto";
}

cv::Mat3b to_rgb_mat(const image::RgbImage & image) {
    const cv::Mat view(image.height, image.width, CV_8UC3, const_cast<std::uint8_t *>(image.rgb.data()));
    return view.clone();
}

cv::Mat3b reduced(const cv::Mat3b & rgb, int longest_side) {
    const double scale = static_cast<double>(longest_side) / std::max(rgb.cols, rgb.rows);
    if (scale >= 1.0) return rgb;
    const auto scaled = [scale](int side) { return std::max(1, static_cast<int>(std::lround(side * scale))); };
    cv::Mat3b small;
    cv::resize(rgb, small, {scaled(rgb.cols), scaled(rgb.rows)}, 0.0, 0.0, cv::INTER_AREA);
    return small;
}

namespace {

std::string size_text(cv::Size size) { return fmt::format("{}x{}", size.width, size.height); }

bool starts_like_jpeg(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    std::array<unsigned char, 3> magic{};
    in.read(reinterpret_cast<char *>(magic.data()), magic.size());
    return in && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF;
}

// The brightest channel of each pixel, so that a mask drawn in any colour counts.
cv::Mat1b strongest_channel(const cv::Mat3b & rgb) {
    std::array<cv::Mat1b, 3> channels;
    cv::split(rgb, channels.data());
    cv::Mat1b strongest = cv::max(channels[0], channels[1]);
    return cv::max(strongest, channels[2]);
}

}  // namespace

LesionMask load_mask_file(const std::filesystem::path & path, cv::Size image_size) {
    image::RgbImage decoded;
    try {
        decoded = image::load_image(path);
    } catch (const Error & e) {
        throw Error(ErrorKind::InvalidInput, fmt::format("lesion mask: {}", e.what()));
    }
    const cv::Mat3b rgb = to_rgb_mat(decoded);
    if (rgb.size() != image_size) {
        throw Error(ErrorKind::InvalidInput, fmt::format("lesion mask '{}' is {} but the image is {}", path.string(),
                                                         size_text(rgb.size()), size_text(image_size)));
    }
    // JPEG smears the 0/255 edge into in-between values (and noise into the zeros); halfway splits them.
    const int highest_background = starts_like_jpeg(path) ? 127 : 0;
    cv::Mat1b pixels = strongest_channel(rgb) > highest_background;
    if (cv::countNonZero(pixels) == 0) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("lesion mask '{}' marks no lesion pixel (lesion pixels are nonzero{})", path.string(),
                                highest_background > 0 ? ", 128 or more in a JPEG" : ""));
    }
    return {std::move(pixels), MaskSource::File};
}

namespace {

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

std::optional<int> parse_int(std::string_view text) {
    text = trim(text);
    int value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

PixelBox parse_box(const std::string & text) {
    std::array<int, 4> values{};
    std::size_t count = 0;
    std::string_view rest = text;
    bool well_formed = true;
    while (well_formed) {
        const auto comma = rest.find(',');
        const auto value = parse_int(rest.substr(0, comma));
        well_formed = value.has_value() && count < values.size();
        if (well_formed) values[count++] = *value;
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    if (!well_formed || count != values.size()) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("lesion box '{}' must be x0,y0,x1,y1: four integers separated by commas", text));
    }
    return {values[0], values[1], values[2], values[3]};
}

LesionMask box_mask(const PixelBox & box, cv::Size image_size) {
    const std::string name = fmt::format("{},{},{},{}", box.x0, box.y0, box.x1, box.y1);
    if (box.x1 <= box.x0 || box.y1 <= box.y0) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("lesion box {} is empty: x1 must exceed x0 and y1 must exceed y0", name));
    }
    if (box.x0 < 0 || box.y0 < 0 || box.x1 > image_size.width || box.y1 > image_size.height) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("lesion box {} does not fit the {} image: 0 <= x0 < x1 <= {} and 0 <= y0 < y1 <= {} "
                                "(x1 and y1 are exclusive)",
                                name, size_text(image_size), image_size.width, image_size.height));
    }
    cv::Mat1b pixels(image_size, 0);
    pixels(cv::Rect(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0)).setTo(255);
    return {std::move(pixels), MaskSource::Box};
}

void SegmentationParams::validate() const {
    const auto require = [](bool ok, const char * what) {
        if (!ok) throw Error(ErrorKind::InvalidArgument, fmt::format("segmentation parameters: {}", what));
    };
    require(working_side >= 32 && working_side <= 4096, "working side must be 32 to 4096 pixels");
    require(vignette_level >= 0.0 && vignette_level < 1.0, "vignette level must be in [0, 1)");
    require(hair_kernel >= 0.0 && hair_kernel <= 0.2, "hair kernel must be in [0, 0.2]");
    require(blur_sigma >= 0.0 && blur_sigma <= 0.1, "blur sigma must be in [0, 0.1]");
    require(threshold_levels >= 1 && threshold_levels <= 8, "threshold levels must be 1 to 8");
    require(morphology_kernel >= 0.0 && morphology_kernel <= 0.2, "morphology kernel must be in [0, 0.2]");
    require(min_area > 0.0 && min_area < max_area && max_area <= 1.0, "areas must satisfy 0 < min < max <= 1");
    require(max_border_share >= 0.0 && max_border_share <= 1.0, "max border share must be in [0, 1]");
    require(min_contrast >= 0.0 && min_contrast < 255.0, "min contrast must be in [0, 255)");
    require(max_off_centre > 0.0 && max_off_centre <= 1.0, "max off-centre must be in (0, 1]");
    require(merge_gap >= 0.0 && merge_gap <= 1.0, "merge gap must be in [0, 1]");
    require(fallback_axes > 0.0 && fallback_axes <= 1.0, "fallback axes must be in (0, 1]");
}

namespace {

// Pixels of a length given as a share of the image's longer side.
int pixels_of(double share, cv::Size size) {
    return static_cast<int>(std::lround(share * std::max(size.width, size.height)));
}

cv::Mat disc(int diameter) {
    const int odd = std::max(1, diameter) | 1;
    return cv::getStructuringElement(cv::MORPH_ELLIPSE, {odd, odd});
}

cv::Mat1b fallback_ellipse(cv::Size size, double axes) {
    cv::Mat1b pixels(size, 0);
    const cv::Point centre(size.width / 2, size.height / 2);
    const cv::Size half_axes(std::max(1, static_cast<int>(std::lround(size.width * axes / 2))),
                             std::max(1, static_cast<int>(std::lround(size.height * axes / 2))));
    cv::ellipse(pixels, centre, half_axes, 0.0, 0.0, 360.0, cv::Scalar(255), cv::FILLED);
    return pixels;
}

// Dermoscopes see a disc: beyond it the frame is near black. Dark regions that reach a corner
// are that vignette; a lesion seldom reaches a corner. Its soft edge, darker than skin
// though not black, is cut off by growing the vignette by the blur's reach.
cv::Mat1b field_of_view(const cv::Mat1b & grey, const SegmentationParams & params) {
    std::vector<uchar> values(grey.begin(), grey.end());
    const auto skin = values.begin() + static_cast<std::ptrdiff_t>(values.size() * 9 / 10);
    std::nth_element(values.begin(), skin, values.end());
    const cv::Mat1b dark = grey < params.vignette_level * *skin;

    cv::Mat1i labels;
    cv::connectedComponents(dark, labels, 8, CV_32S);
    cv::Mat1b vignette(grey.size(), 0);
    const std::array<cv::Point, 4> corners{
        {{0, 0}, {grey.cols - 1, 0}, {0, grey.rows - 1}, {grey.cols - 1, grey.rows - 1}}};
    for (const cv::Point & corner : corners) {
        const int label = labels(corner);
        if (label != 0) vignette.setTo(255, labels == label);
    }
    cv::dilate(vignette, vignette, disc(2 * pixels_of(3 * params.blur_sigma, grey.size()) + 1));
    return ~vignette;
}

struct Otsu {
    double threshold = 0.0;   // lesion: at or below it
    double separation = 0.0;  // between-class variance over total variance, in [0, 1]
};

// Otsu's threshold over the pixels of `channel` inside `region`.
Otsu otsu(const cv::Mat1b & channel, const cv::Mat1b & region) {
    std::array<double, 256> histogram{};
    double total = 0.0;
    for (int y = 0; y < channel.rows; ++y) {
        for (int x = 0; x < channel.cols; ++x) {
            if (region(y, x)) histogram[channel(y, x)] += 1.0;
        }
    }
    double sum = 0.0;
    double sum_squares = 0.0;
    for (int level = 0; level < 256; ++level) {
        total += histogram[level];
        sum += level * histogram[level];
        sum_squares += static_cast<double>(level) * level * histogram[level];
    }
    Otsu best;
    if (total == 0.0) return best;
    const double mean = sum / total;
    const double variance = sum_squares / total - mean * mean;
    if (variance <= 0.0) return best;
    double weight_below = 0.0;
    double sum_below = 0.0;
    for (int level = 0; level < 255; ++level) {
        weight_below += histogram[level];
        sum_below += level * histogram[level];
        const double weight_above = total - weight_below;
        if (weight_below == 0.0 || weight_above == 0.0) continue;
        const double mean_below = sum_below / weight_below;
        const double mean_above = (sum - sum_below) / weight_above;
        const double between =
            weight_below * weight_above * (mean_above - mean_below) * (mean_above - mean_below) / (total * total);
        if (between / variance > best.separation) best = {static_cast<double>(level), between / variance};
    }
    return best;
}

// Melanin darkens blue most, blood darkens green; skin tone and illumination vary. Of the
// colour channels and grey, the one Otsu separates best is the one the lesion stands out in.
cv::Mat1b lesion_channel(const cv::Mat3b & rgb, const cv::Mat1b & field, Otsu & split) {
    std::array<cv::Mat1b, 4> candidates;
    cv::split(rgb, candidates.data());
    cv::cvtColor(rgb, candidates[3], cv::COLOR_RGB2GRAY);
    std::size_t best = 0;
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        const Otsu candidate = otsu(candidates[i], field);
        if (i == 0 || candidate.separation > split.separation) {
            split = candidate;
            best = i;
        }
    }
    return candidates[best];
}

// Holes inside a region (glare, regression, a thresholding gap) belong to it.
cv::Mat1b filled(const cv::Mat1b & regions) {
    std::vector<std::vector<cv::Point>> outlines;
    cv::findContours(regions.clone(), outlines, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    cv::Mat1b result(regions.size(), 0);
    cv::drawContours(result, outlines, -1, cv::Scalar(255), cv::FILLED);
    return result;
}

// The share of a component's outline that lies on `exterior_reach`.
double border_share(const cv::Mat1b & component, const cv::Mat1b & exterior_reach) {
    cv::Mat1b inner;
    cv::erode(component, inner, disc(3), {-1, -1}, 1, cv::BORDER_CONSTANT, cv::Scalar(0));
    const cv::Mat1b outline = component & ~inner;
    return static_cast<double>(cv::countNonZero(outline & exterior_reach)) / std::max(1, cv::countNonZero(outline));
}

// How much darker a component is than the band of skin around it; negative when lighter.
double contrast_with_surroundings(const cv::Mat1b & component, const cv::Mat1b & channel, const cv::Mat1b & field,
                                  int band) {
    cv::Mat1b grown;
    cv::dilate(component, grown, disc(2 * band + 1));
    const cv::Mat1b ring = grown & ~component & field;
    if (cv::countNonZero(ring) == 0) return -1.0;
    return cv::mean(channel, ring)[0] - cv::mean(channel, component)[0];
}

// How far a component's centroid lies from the image centre, as a share of the half diagonal.
double off_centre(const cv::Mat1b & component) {
    const cv::Moments moments = cv::moments(component, true);
    const cv::Point2d centroid(moments.m10 / moments.m00, moments.m01 / moments.m00);
    const cv::Point2d centre(component.cols / 2.0, component.rows / 2.0);
    return cv::norm(centroid - centre) / cv::norm(centre);
}

// How plausible one component is as the lesion: its area, weighed down the farther it
// lies from the centre (photographers centre the lesion); 0 when it is not plausible at all.
double lesion_score(const cv::Mat1b & component, const cv::Mat1b & channel, const cv::Mat1b & field,
                    const cv::Mat1b & exterior_reach, double field_area, const SegmentationParams & params) {
    const double area = cv::countNonZero(component) / field_area;
    if (area < params.min_area || area > params.max_area) return 0.0;
    if (border_share(component, exterior_reach) > params.max_border_share) return 0.0;
    const int band = pixels_of(params.morphology_kernel, component.size()) + 1;
    if (contrast_with_surroundings(component, channel, field, band) < params.min_contrast) return 0.0;
    const double distance = off_centre(component);
    if (distance > params.max_off_centre) return 0.0;
    return area * (1.0 - distance) * (1.0 - distance);
}

// The image frame and the vignette, grown by a pixel: what a component touches there is cut off.
cv::Mat1b exterior_reach_of(const cv::Mat1b & field) {
    cv::Mat1b exterior = ~field;
    cv::rectangle(exterior, cv::Rect({0, 0}, field.size()), cv::Scalar(255), 1);
    cv::dilate(exterior, exterior, disc(3));
    return exterior;
}

struct Plausible {
    cv::Mat1b pixels;
    double score = 0.0;
};

// The best-scoring plausible component, with the plausible components near it: a lesion
// that the threshold cut in parts (a pale band across it) is still one lesion.
std::optional<cv::Mat1b> best_lesion(const cv::Mat1b & dark, const cv::Mat1b & channel, const cv::Mat1b & field,
                                     const SegmentationParams & params) {
    cv::Mat1i labels;
    const int count = cv::connectedComponents(dark, labels, 8, CV_32S);
    const cv::Mat1b exterior_reach = exterior_reach_of(field);
    const double field_area = cv::countNonZero(field);
    std::vector<Plausible> plausible;
    for (int label = 1; label < count; ++label) {
        cv::Mat1b component = labels == label;
        const double score = lesion_score(component, channel, field, exterior_reach, field_area, params);
        if (score > 0.0) plausible.push_back({std::move(component), score});
    }
    if (plausible.empty()) return std::nullopt;
    const auto best = std::max_element(plausible.begin(), plausible.end(),
                                       [](const Plausible & a, const Plausible & b) { return a.score < b.score; });
    cv::Mat1f distance_to_best;
    cv::distanceTransform(~best->pixels, distance_to_best, cv::DIST_L2, cv::DIST_MASK_PRECISE);
    const double merge_gap = pixels_of(params.merge_gap, dark.size());
    cv::Mat1b lesion = best->pixels.clone();
    for (const Plausible & other : plausible) {
        double nearest = 0.0;
        cv::minMaxLoc(distance_to_best, &nearest, nullptr, nullptr, nullptr, other.pixels);
        if (nearest <= merge_gap) lesion |= other.pixels;
    }
    return lesion;
}

// Thresholds at Otsu's level; when nothing there is plausible (a small lesion is too few
// pixels to pull Otsu's level down, which then splits the skin's texture), splits the darker
// side again, up to params.threshold_levels times.
std::optional<cv::Mat1b> find_lesion(const cv::Mat3b & rgb, const SegmentationParams & params) {
    const double sigma = params.blur_sigma * std::max(rgb.cols, rgb.rows);
    cv::Mat1b grey;
    cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
    if (sigma > 0.0) cv::GaussianBlur(grey, grey, {}, sigma);
    const cv::Mat1b field = field_of_view(grey, params);
    if (cv::countNonZero(field) == 0) return std::nullopt;

    // Hairs are thin and dark: a grey closing wider than them erases them, the lesion stays.
    cv::Mat3b hairless;
    cv::morphologyEx(rgb, hairless, cv::MORPH_CLOSE, disc(pixels_of(params.hair_kernel, rgb.size())));
    if (sigma > 0.0) cv::GaussianBlur(hairless, hairless, {}, sigma);

    const cv::Mat kernel = disc(pixels_of(params.morphology_kernel, rgb.size()));
    cv::Mat1b candidates = field.clone();
    for (int level = 0; level < params.threshold_levels; ++level) {
        Otsu split;
        const cv::Mat1b channel = lesion_channel(hairless, candidates, split);
        if (split.separation <= 0.0) break;
        candidates &= channel <= split.threshold;
        cv::Mat1b dark;
        cv::morphologyEx(candidates, dark, cv::MORPH_OPEN, kernel);
        cv::morphologyEx(dark, dark, cv::MORPH_CLOSE, kernel);
        if (auto lesion = best_lesion(filled(dark) & field, channel, field, params)) return lesion;
    }
    return std::nullopt;
}

}  // namespace

LesionMask segment_lesion(const cv::Mat3b & rgb, const SegmentationParams & params) {
    params.validate();
    if (rgb.empty()) throw Error(ErrorKind::InvalidArgument, "lesion segmentation: the image is empty");
    const cv::Mat3b working = reduced(rgb, params.working_side);
    const std::optional<cv::Mat1b> found = find_lesion(working, params);
    if (!found) return {fallback_ellipse(rgb.size(), params.fallback_axes), MaskSource::AutoFallback};
    cv::Mat1b pixels;
    cv::resize(*found, pixels, rgb.size(), 0.0, 0.0, cv::INTER_LINEAR);
    return {pixels > 127, MaskSource::Auto};
}

LesionMask lesion_mask(const cv::Mat3b & rgb, const MaskSpec & spec) {
    if (spec.file) return load_mask_file(*spec.file, rgb.size());
    if (spec.box) return box_mask(parse_box(*spec.box), rgb.size());
    return segment_lesion(rgb, spec.segmentation);
}

void MaskingParams::validate() const {
    if (dilation < 0.0 || dilation > 0.5) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("mask dilation must be in [0, 0.5] (got {})", dilation));
    }
    if (inpaint_side < 16) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("inpainting side must be 16 or more (got {})", inpaint_side));
    }
    if (fill_smoothing < 0.0 || fill_smoothing > 0.2) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("fill smoothing must be in [0, 0.2] (got {})", fill_smoothing));
    }
    if (!(inpaint_radius > 0.0 && inpaint_radius <= 50.0)) {
        throw Error(ErrorKind::InvalidArgument,
                    fmt::format("inpainting radius must be in (0, 50] (got {})", inpaint_radius));
    }
}

cv::Mat1b dilated_mask(const cv::Mat1b & mask, const MaskingParams & params) {
    params.validate();
    if (mask.empty() || cv::countNonZero(mask) == 0) {
        throw Error(ErrorKind::InvalidArgument, "lesion mask is empty: there is nothing to hide");
    }
    const int radius = std::max(1, pixels_of(params.dilation, mask.size()));
    cv::Mat1b grown;
    cv::dilate(mask > 0, grown, disc(2 * radius + 1));
    return grown;
}

namespace {

// `rgb` with `region` filled from around it, at `rgb`'s size. Telea's cost grows with the
// pixels to fill, so it runs on a reduced copy: the fill is smooth and loses nothing there.
cv::Mat3b inpainted(const cv::Mat3b & rgb, const cv::Mat1b & region, const MaskingParams & params) {
    const cv::Mat3b small_rgb = reduced(rgb, params.inpaint_side);
    cv::Mat1b small_region;
    cv::resize(region, small_region, small_rgb.size(), 0.0, 0.0, cv::INTER_AREA);
    small_region = small_region > 0;  // a reduced pixel with any share of the region is unknown
    if (cv::countNonZero(small_region) == static_cast<int>(small_region.total())) {
        throw Error(ErrorKind::InvalidArgument,
                    "lesion mask (dilated) covers the whole image: there is no skin to fill it from");
    }
    cv::Mat3b small_filled;
    cv::inpaint(small_rgb, small_region, small_filled, params.inpaint_radius, cv::INPAINT_TELEA);
    // Telea carries the edge inwards along straight fronts; over a large region they meet
    // in facets and streaks that outline where the lesion was. Smoothing the fill (blending
    // in the skin at its edge) leaves an even patch of skin colour.
    const double smoothing = params.fill_smoothing * std::max(small_rgb.cols, small_rgb.rows);
    if (smoothing > 0.0) {
        cv::Mat3b smoothed;
        cv::GaussianBlur(small_filled, smoothed, {}, smoothing);
        smoothed.copyTo(small_filled, small_region);
    }
    cv::Mat3b fill;
    cv::resize(small_filled, fill, rgb.size(), 0.0, 0.0, cv::INTER_LINEAR);
    return fill;
}

}  // namespace

cv::Mat3b mask_lesion(const cv::Mat3b & rgb, const cv::Mat1b & mask, const MaskingParams & params) {
    if (rgb.size() != mask.size()) {
        throw Error(ErrorKind::InvalidArgument, fmt::format("lesion mask is {} but the image is {}",
                                                            size_text(mask.size()), size_text(rgb.size())));
    }
    const cv::Mat1b region = dilated_mask(mask, params);
    const cv::Mat3b fill = inpainted(rgb, region, params);
    cv::Mat3b result = rgb.clone();
    fill.copyTo(result, region);
    return result;
}

}  // namespace dermlens::grounding

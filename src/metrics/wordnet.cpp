#include "metrics/wordnet.h"

#include "common/text.h"
#include "dermlens/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <unordered_map>
#include <utility>

namespace dermlens::metrics {
namespace {

struct PartOfSpeech {
    char tag;             // as index lines write it
    const char * suffix;  // of the file names
    std::vector<std::pair<std::string, std::string>> substitutions;  // NLTK's MORPHOLOGICAL_SUBSTITUTIONS
};

// NLTK's POS_LIST order and its detachment rules (nltk/corpus/reader/wordnet.py).
const std::array<PartOfSpeech, 4> & parts_of_speech() {
    static const std::array<PartOfSpeech, 4> all{{
        {'n', "noun", {{"s", ""}, {"ses", "s"}, {"ves", "f"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"},
                       {"shes", "sh"}, {"men", "man"}, {"ies", "y"}}},
        {'v', "verb", {{"s", ""}, {"ies", "y"}, {"es", "e"}, {"es", ""}, {"ed", "e"}, {"ed", ""}, {"ing", "e"},
                       {"ing", ""}}},
        {'a', "adj", {{"er", ""}, {"est", ""}, {"er", "e"}, {"est", "e"}}},
        {'r', "adv", {}},
    }};
    return all;
}

std::ifstream open_file(const std::filesystem::path & path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw Error(ErrorKind::InvalidInput,
                    fmt::format("WordNet: cannot read '{}' (install Debian's wordnet-base or set DERMLENS_WORDNET to "
                                "a WordNet 3.0 dict folder)",
                                path.string()),
                    "wordnet");
    }
    return in;
}

std::vector<std::string> split_words(const std::string & line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string word; in >> word;) {
        words.push_back(word);
    }
    return words;
}

bool ends_with(const std::string & word, const std::string & suffix) {
    return word.size() >= suffix.size() && word.compare(word.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A lemma of a data line without its adjective marker: "ascetic(a)" -> "ascetic" (NLTK's
// r"(.*?)(\(.*\))?$" cuts at the first "(" of a name ending with ")").
std::string without_marker(const std::string & name) {
    const std::size_t open = name.find('(');
    return open != std::string::npos && !name.empty() && name.back() == ')' ? name.substr(0, open) : name;
}

}  // namespace

struct WordNet::Impl {
    struct Part {
        std::unordered_map<std::string, std::vector<long>> offsets;  // lemma -> synset offsets
        std::unordered_map<std::string, std::vector<std::string>> exceptions;  // form -> base forms
        std::ifstream data;
        std::map<long, std::vector<std::string>> lemma_names;  // of each synset read
    };
    std::array<Part, 4> parts;
    std::filesystem::path folder;
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<std::string>> answers;

    void read_index(Part & part, const std::filesystem::path & path) {
        std::ifstream in = open_file(path);
        std::size_t number = 0;
        for (std::string line; std::getline(in, line);) {
            ++number;
            if (line.empty() || line[0] == ' ') {
                continue;  // the licence
            }
            // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
            const std::vector<std::string> words = split_words(line);
            try {
                const std::size_t synsets = std::stoul(words.at(2));
                const std::size_t pointers = std::stoul(words.at(3));
                const std::size_t first = 4 + pointers + 2;
                std::vector<long> offsets;
                for (std::size_t i = 0; i < synsets; ++i) {
                    offsets.push_back(std::stol(words.at(first + i)));
                }
                part.offsets[words[0]] = std::move(offsets);
            } catch (const std::exception &) {
                throw Error(ErrorKind::InvalidInput, fmt::format("WordNet: '{}' line {}: malformed index entry",
                                                                 path.string(), number),
                            "wordnet");
            }
        }
    }

    void read_exceptions(Part & part, const std::filesystem::path & path) {
        std::ifstream in = open_file(path);
        for (std::string line; std::getline(in, line);) {
            std::vector<std::string> words = split_words(line);
            if (!words.empty()) {
                part.exceptions[words[0]].assign(words.begin() + 1, words.end());
            }
        }
    }

    // The forms of `forms` that the part's index has, each once, in order.
    std::vector<std::string> known(const Part & part, const std::vector<std::string> & forms) const {
        std::vector<std::string> result;
        for (const std::string & form : forms) {
            if (part.offsets.count(form) && std::find(result.begin(), result.end(), form) == result.end()) {
                result.push_back(form);
            }
        }
        return result;
    }

    // NLTK's _morphy: the exception list's forms when the word has one; else the word and its
    // one-rule forms that the index knows; else rules applied again and again until some are known.
    std::vector<std::string> morphy(const std::string & form, std::size_t pos) const {
        const Part & part = parts[pos];
        if (const auto exception = part.exceptions.find(form); exception != part.exceptions.end()) {
            std::vector<std::string> forms{form};
            forms.insert(forms.end(), exception->second.begin(), exception->second.end());
            return known(part, forms);
        }
        const auto apply_rules = [&](const std::vector<std::string> & from) {
            std::vector<std::string> to;
            for (const std::string & word : from) {
                for (const auto & [old_suffix, new_suffix] : parts_of_speech()[pos].substitutions) {
                    if (ends_with(word, old_suffix)) {
                        std::string next = word.substr(0, word.size() - old_suffix.size()) + new_suffix;
                        // A form reached twice gives the same later forms: keep one (NLTK keeps
                        // both, with the same set of results).
                        if (std::find(to.begin(), to.end(), next) == to.end()) {
                            to.push_back(std::move(next));
                        }
                    }
                }
            }
            return to;
        };
        std::vector<std::string> forms = apply_rules({form});
        std::vector<std::string> with_word{form};
        with_word.insert(with_word.end(), forms.begin(), forms.end());
        if (std::vector<std::string> results = known(part, with_word); !results.empty()) {
            return results;
        }
        while (!forms.empty()) {
            forms = apply_rules(forms);
            if (std::vector<std::string> results = known(part, forms); !results.empty()) {
                return results;
            }
        }
        return {};
    }

    // The lemma names of the synset at `offset` of the part's data file (empty when the line
    // there is not that synset's, as NLTK skips it with a warning).
    const std::vector<std::string> & synset_lemmas(std::size_t pos, long offset) {
        Part & part = parts[pos];
        if (const auto found = part.lemma_names.find(offset); found != part.lemma_names.end()) {
            return found->second;
        }
        std::vector<std::string> names;
        part.data.clear();
        part.data.seekg(offset);
        std::string line;
        std::getline(part.data, line);
        const std::vector<std::string> words = split_words(line);
        // synset_offset lex_filenum ss_type w_cnt(hex) word lex_id(hex) ...
        if (words.size() >= 4 && words[0] == fmt::format("{:08d}", offset)) {
            const std::size_t count = std::stoul(words[3], nullptr, 16);
            for (std::size_t i = 0; i < count && 4 + 2 * i < words.size(); ++i) {
                names.push_back(without_marker(words[4 + 2 * i]));
            }
        }
        return part.lemma_names.emplace(offset, std::move(names)).first->second;
    }
};

WordNet::WordNet(const std::filesystem::path & folder) : impl_(std::make_unique<Impl>()) {
    impl_->folder = folder;
    for (std::size_t pos = 0; pos < parts_of_speech().size(); ++pos) {
        const std::string suffix = parts_of_speech()[pos].suffix;
        Impl::Part & part = impl_->parts[pos];
        impl_->read_index(part, folder / ("index." + suffix));
        impl_->read_exceptions(part, folder / (suffix + ".exc"));
        part.data = open_file(folder / ("data." + suffix));
    }
}

WordNet::~WordNet() = default;

std::filesystem::path WordNet::default_folder() {
    const char * configured = std::getenv("DERMLENS_WORDNET");
    return configured && *configured ? std::filesystem::path(configured) : std::filesystem::path("/usr/share/wordnet");
}

const std::vector<std::string> & WordNet::lemma_names(std::string_view word) const {
    const std::string lower = ascii_lower(word);
    const std::lock_guard<std::mutex> lock(impl_->mutex);
    if (const auto found = impl_->answers.find(lower); found != impl_->answers.end()) {
        return found->second;
    }
    std::set<std::string> names;
    for (std::size_t pos = 0; pos < parts_of_speech().size(); ++pos) {
        for (const std::string & form : impl_->morphy(lower, pos)) {
            for (const long offset : impl_->parts[pos].offsets.at(form)) {
                const std::vector<std::string> & lemmas = impl_->synset_lemmas(pos, offset);
                names.insert(lemmas.begin(), lemmas.end());
            }
        }
    }
    return impl_->answers.emplace(lower, std::vector<std::string>(names.begin(), names.end())).first->second;
}

}  // namespace dermlens::metrics

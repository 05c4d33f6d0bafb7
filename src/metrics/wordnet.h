// WordNet 3.0 read from its database files (Debian's wordnet-base, /usr/share/wordnet), as far
// as METEOR's synonym stage needs it: the lemma names of every synset of a word, found the way
// NLTK 3.8's WordNetCorpusReader.synsets(word) finds them — the word lower-cased, each part of
// speech in NLTK's order (noun, verb, adjective, adverb), its base forms by `morphy` (the
// exception lists, then NLTK's detachment rules applied until a form is in the index) — so
// that METEOR here and NLTK's meteor_score match the same words.
//
// The index and exception files are read once (under a second); synset lines are read from the
// data files by offset when first needed and the answers kept. Thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace dermlens::metrics {

class WordNet {
public:
    // Reads the index.* and *.exc files of `folder`. Throws Error(InvalidInput) naming the folder and
    // the Debian package when a file is missing, Error(InvalidInput) naming the file and line of
    // a malformed entry.
    explicit WordNet(const std::filesystem::path & folder = default_folder());
    ~WordNet();
    WordNet(const WordNet &) = delete;
    WordNet & operator=(const WordNet &) = delete;

    static std::filesystem::path default_folder();  // $DERMLENS_WORDNET, else /usr/share/wordnet

    // The distinct lemma names (case as WordNet writes them, "_" joining multi-word lemmas) of
    // every synset of `word`, sorted; empty for a word WordNet does not know.
    const std::vector<std::string> & lemma_names(std::string_view word) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace dermlens::metrics

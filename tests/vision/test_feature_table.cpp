// Feature files: CSV and .npy (+ sidecar) round trips, the encoder identity line,
// and refused files named with their line or field.
#include "dermlens/error.h"
#include "vision/feature_table.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using namespace dermlens::vision;
using testing::HasSubstr;

class FeatureFiles : public testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / fmt::format("dermlens_features_{}", ::getpid());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path write(const std::string & name, const std::string & bytes) const {
        const fs::path path = dir_ / name;
        std::ofstream(path, std::ios::binary) << bytes;
        return path;
    }

    std::string error_reading(const fs::path & path) const {
        try {
            read_feature_table(path);
        } catch (const dermlens::Error & e) {
            EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidInput) << e.what();
            return e.what();
        }
        return "(no error)";
    }

    // A .npy file with the given header dict and `data_bytes` bytes of data.
    fs::path npy(const std::string & name, const std::string & dict, std::size_t data_bytes) const {
        std::string header = dict;
        while ((10 + header.size() + 1) % 64 != 0) {
            header += ' ';
        }
        header += '\n';
        std::string bytes = "\x93NUMPY";
        bytes += '\x01';
        bytes += '\x00';
        bytes += static_cast<char>(header.size() & 0xff);
        bytes += static_cast<char>(header.size() >> 8);
        bytes += header;
        bytes.append(data_bytes, '\0');
        return write(name, bytes);
    }

    fs::path dir_;
};

FeatureTable sample_table() {
    FeatureTable table;
    table.encoder = {"0123abcd", FeatureKind::ProjectedMean, "clip-896-siglip"};
    table.images = {"a/1.jpg", "b, with comma.jpg", "c \"quoted\".png"};
    table.labels = {"melanoma", "nevus", ""};
    table.splits = {"train", "calib", ""};
    table.patient_ids = {"p1", "", "p2"};
    table.features.resize(3, 4);
    table.features << 0.1f, -2.5f, 3e-8f, 1e20f, 0.0f, 1.0f / 3.0f, -0.0f, 42.0f, 7.0f, 8.0f, 9.0f, -1e-30f;
    return table;
}

void expect_same(const FeatureTable & a, const FeatureTable & b) {
    EXPECT_EQ(a.encoder, b.encoder);
    EXPECT_EQ(a.images, b.images);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_EQ(a.splits, b.splits);
    EXPECT_EQ(a.patient_ids, b.patient_ids);
    EXPECT_EQ(a.features, b.features);  // bit-exact: floats are written in shortest round-trip form
}

TEST(FeatureKind, NamesAndParses) {
    EXPECT_STREQ(feature_kind_name(FeatureKind::EncoderMean), "encoder-mean");
    EXPECT_STREQ(feature_kind_name(FeatureKind::ProjectedMean), "projected-mean");
    EXPECT_EQ(parse_feature_kind("projected-mean"), FeatureKind::ProjectedMean);
    EXPECT_THROW(parse_feature_kind("cls"), dermlens::Error);
}

TEST(EncoderIdentity, KeyDiffersWheneverAFieldDiffers) {
    const EncoderIdentity base{"abc", FeatureKind::EncoderMean, "clip-896"};
    EXPECT_EQ(base.key(), "encoder-mean|3:abc|clip-896");
    EXPECT_NE(base.key(), (EncoderIdentity{"abd", FeatureKind::EncoderMean, "clip-896"}.key()));
    EXPECT_NE(base.key(), (EncoderIdentity{"abc", FeatureKind::ProjectedMean, "clip-896"}.key()));
    EXPECT_NE(base.key(), (EncoderIdentity{"abc", FeatureKind::EncoderMean, "clip-336"}.key()));
    // No separator games: the hash is length-prefixed.
    EXPECT_NE((EncoderIdentity{"a|b", FeatureKind::EncoderMean, "c"}.key()),
              (EncoderIdentity{"a", FeatureKind::EncoderMean, "b|c"}.key()));
}

TEST(FeatureTableValidate, RefusesInconsistentTables) {
    FeatureTable table = sample_table();
    EXPECT_NO_THROW(table.validate());
    table.labels.pop_back();
    EXPECT_THROW(table.validate(), dermlens::Error);
    table = sample_table();
    table.features(1, 2) = std::numeric_limits<float>::quiet_NaN();
    try {
        table.validate();
        FAIL();
    } catch (const dermlens::Error & e) {
        EXPECT_THAT(e.what(), HasSubstr("row 1 ('b, with comma.jpg'), feature 2: nan is not finite"));
    }
    table = sample_table();
    table.splits[0] = "training";
    EXPECT_THROW(table.validate(), dermlens::Error);
}

TEST_F(FeatureFiles, CsvRoundTrip) {
    const FeatureTable table = sample_table();
    write_feature_table(table, dir_ / "f.csv");
    expect_same(read_feature_table(dir_ / "f.csv"), table);
    std::ifstream in(dir_ / "f.csv");
    std::string first;
    std::string second;
    std::getline(in, first);
    std::getline(in, second);
    EXPECT_EQ(first, "# dermlens.features/1 mmproj_sha256=0123abcd kind=projected-mean preprocessing=clip-896-siglip");
    EXPECT_EQ(second, "image,label,split,patient_id,f0,f1,f2,f3");
}

// A table may borrow its rows from memory laid out otherwise (a NumPy array, row-major, every
// other column of a wider array): read in place, it is the same table as the owning one.
TEST_F(FeatureFiles, ABorrowedTableIsTheOwningOne) {
    const FeatureTable owning = sample_table();
    std::vector<float> wide;  // rows of 8 floats: the features at the even columns, junk between
    for (Eigen::Index r = 0; r < owning.features.rows(); ++r) {
        for (Eigen::Index c = 0; c < owning.features.cols(); ++c) {
            wide.push_back(owning.features(r, c));
            wide.push_back(-99.0f);
        }
    }
    FeatureTable borrowing = owning;
    borrowing.features.resize(0, 0);
    borrowing.borrowed = BorrowedRows{wide.data(), 3, 4, 8, 2};
    EXPECT_NO_THROW(borrowing.validate());
    EXPECT_EQ(borrowing.dimension(), 4u);
    EXPECT_EQ(Eigen::MatrixXf(borrowing.feature_rows()), owning.features);
    write_feature_table(borrowing, dir_ / "borrowed.npy");
    expect_same(read_feature_table(dir_ / "borrowed.npy"), owning);
    wide[2 * 4 + 2] = std::numeric_limits<float>::infinity();  // row 1, feature 1
    EXPECT_THROW(borrowing.validate(), dermlens::Error);
}

TEST_F(FeatureFiles, NpyRoundTrip) {
    const FeatureTable table = sample_table();
    write_feature_table(table, dir_ / "f.npy");
    EXPECT_TRUE(fs::exists(dir_ / "f.npy.csv"));
    expect_same(read_feature_table(dir_ / "f.npy"), table);
    // The header is numpy's: version 1.0, 64-byte aligned, float32 C order.
    std::ifstream in(dir_ / "f.npy", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
    EXPECT_THAT(bytes, HasSubstr("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"));
    EXPECT_EQ(bytes.size(), 128u + 3 * 4 * 4);
}

TEST_F(FeatureFiles, ReadsCsvWithoutOptionalColumnsAndFloat64Npy) {
    const auto csv = write("plain.csv", "image,f0,f1\r\nx.jpg,1,2.5\r\n\r\ny.jpg, -3 ,4e2\r\n");
    const FeatureTable table = read_feature_table(csv);
    EXPECT_EQ(table.images, (std::vector<std::string>{"x.jpg", "y.jpg"}));
    EXPECT_EQ(table.labels, (std::vector<std::string>{"", ""}));
    EXPECT_EQ(table.encoder, EncoderIdentity{});
    EXPECT_EQ(table.features(1, 0), -3.0f);
    EXPECT_EQ(table.features(1, 1), 400.0f);
    // float64, Fortran order: column-major data.
    std::string header = "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }";
    const auto path = npy("f64.npy", header, 0);
    {
        std::ofstream out(path, std::ios::binary | std::ios::app);
        for (const double v : {1.0, 4.0, 2.0, 5.0, 3.0, 6.0}) {
            out.write(reinterpret_cast<const char *>(&v), sizeof v);
        }
    }
    write("f64.npy.csv", "image,label\na,x\nb,y\n");
    const FeatureTable wide = read_feature_table(path);
    EXPECT_EQ(wide.features, (Eigen::MatrixXf{{1, 2, 3}, {4, 5, 6}}));
    EXPECT_EQ(wide.labels, (std::vector<std::string>{"x", "y"}));
}

TEST_F(FeatureFiles, RefusesBadCsvNamingLineAndColumn) {
    EXPECT_THAT(error_reading(write("nan.csv", "image,label,f0,f1\na.jpg,x,1,2\nb.jpg,y,3,abc\n")),
                HasSubstr("nan.csv': line 3, column f1: 'abc' is not a number"));
    EXPECT_THAT(error_reading(write("inf.csv", "image,f0\na.jpg,inf\n")),
                HasSubstr("line 2, column f0: 'inf' is not a finite float32 value"));
    EXPECT_THAT(error_reading(write("huge.csv", "image,f0\na.jpg,1e300\n")),
                HasSubstr("line 2, column f0: '1e300' is not a finite float32 value"));
    EXPECT_THAT(error_reading(write("ragged.csv", "image,f0,f1\na.jpg,1,2\nb.jpg,3\n")),
                HasSubstr("ragged.csv': line 3: 2 fields, the header has 3"));
    EXPECT_THAT(error_reading(write("columns.csv", "image,f0,f2\na.jpg,1,2\n")),
                HasSubstr("line 1 (header): column 3 is 'f2', expected 'f1'"));
    EXPECT_THAT(error_reading(write("noimage.csv", "label,f0\nx,1\n")), HasSubstr("no 'image' column"));
    EXPECT_THAT(error_reading(write("nofeatures.csv", "image,label\na,x\n")), HasSubstr("no feature columns"));
    EXPECT_THAT(error_reading(write("empty.csv", "")), HasSubstr("empty: no header line"));
    EXPECT_THAT(error_reading(write("quote.csv", "image,f0\n\"a.jpg,1\n")),
                HasSubstr("line 2: a quoted field is not closed"));
    EXPECT_THAT(error_reading(write("split.csv", "image,split,f0\na,training,1\n")),
                HasSubstr("line 2: split 'training' is not train, val, calib, test or empty"));
    EXPECT_THAT(error_reading(write("identity.csv", "# dermlens.features/1 kind=cls\nimage,f0\na,1\n")),
                HasSubstr("line 1: feature kind 'cls'"));
    EXPECT_THAT(error_reading(dir_ / "absent.csv"), HasSubstr("absent.csv': cannot open it"));
    try {
        read_feature_table(dir_ / "f.txt");
        FAIL();
    } catch (const dermlens::Error & e) {
        EXPECT_EQ(e.kind(), dermlens::ErrorKind::InvalidArgument);
        EXPECT_THAT(e.what(), HasSubstr("unknown format '.txt' (use .csv or .npy)"));
    }
}

TEST_F(FeatureFiles, RefusesBadNpy) {
    write("int.npy.csv", "image\na\nb\n");
    EXPECT_THAT(error_reading(npy("int.npy", "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }", 16)),
                HasSubstr("int.npy': .npy dtype '<i4' is not supported"));
    EXPECT_THAT(error_reading(npy("big.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", 16)),
                HasSubstr("dtype '>f4' is not supported"));
    EXPECT_THAT(error_reading(npy("flat.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 16)),
                HasSubstr(".npy array has 1 dimensions, expected 2"));
    EXPECT_THAT(error_reading(npy("cube.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", 32)),
                HasSubstr(".npy array has 3 dimensions"));
    EXPECT_THAT(error_reading(npy("short.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20)),
                HasSubstr("short.npy': truncated: shape (2, 3) of 4-byte values needs 24 bytes of data, the file has 20"));
    EXPECT_THAT(error_reading(npy("long.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", 12)),
                HasSubstr("4 bytes after the data"));
    EXPECT_THAT(error_reading(write("magic.npy", "PK\x03\x04 not numpy at all")), HasSubstr("not a .npy file"));
    EXPECT_THAT(error_reading(write("cut.npy", std::string("\x93NUMPY\x01\x00\x76\x00{'descr'", 17))),
                HasSubstr("truncated .npy header"));
    EXPECT_THAT(error_reading(npy("nosidecar.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", 4)),
                HasSubstr("no sidecar"));
    npy("rows.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1), }", 12);
    write("rows.npy.csv", "image\na\nb\n");
    EXPECT_THAT(error_reading(dir_ / "rows.npy"), HasSubstr("rows.npy.csv': 2 rows, but"));
    write("extra.npy.csv", "image,f0\na,1\n");
    EXPECT_THAT(error_reading(npy("extra.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", 4)),
                HasSubstr("unknown column 'f0'"));
}

}  // namespace

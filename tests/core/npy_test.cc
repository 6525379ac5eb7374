#include "core/npy.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/test_util.h"

namespace gr {
namespace {

TEST(NpyTest, HeaderDescribesTheArrayAndAlignsTheData) {
  const size_t matrix_shape[] = {3, 2};
  const std::string header = NpyHeader("<f4", matrix_shape);
  EXPECT_EQ(header.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  EXPECT_EQ(header.size() % 64, 0u);
  EXPECT_EQ(static_cast<size_t>(static_cast<unsigned char>(header[8]) | (static_cast<unsigned char>(header[9]) << 8)),
            header.size() - 10);
  EXPECT_NE(header.find("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }"), std::string::npos);
  EXPECT_EQ(header.back(), '\n');
  const size_t vector_shape[] = {5};
  EXPECT_NE(NpyHeader("<u8", vector_shape).find("'shape': (5,), }"), std::string::npos);  // a 1-tuple keeps its comma
}

TEST(NpyTest, DataFollowsTheHeaderRowMajor) {
  FloatMatrix m(2, 3);
  for (size_t i = 0; i < 6; ++i) m.Data()[i] = static_cast<float>(i) + 0.5f;
  const std::string path = ::gr::testing::TempPath("m.npy");
  SaveNpy(path, m);
  const std::string bytes = ::gr::testing::ReadBytes(path);
  const size_t shape[] = {2, 3};
  const size_t header = NpyHeader("<f4", shape).size();
  ASSERT_EQ(bytes.size(), header + 6 * sizeof(float));
  float back[6];
  std::memcpy(back, bytes.data() + header, sizeof(back));
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(back[i], m.Data()[i]);
  const uint64_t ids[] = {1, uint64_t{1} << 60};
  SaveNpy(path, std::span<const uint64_t>(ids));
  const size_t ids_shape[] = {2};
  EXPECT_EQ(::gr::testing::ReadBytes(path).size(), NpyHeader("<u8", ids_shape).size() + sizeof(ids));
}

}  // namespace
}  // namespace gr

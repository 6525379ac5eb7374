#include "core/binary_io.h"

#include "core/atomic_file.h"

#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace gr {
namespace {

constexpr uint32_t kMaxSectionName = 256;

std::string ErrnoText() { return std::strerror(errno); }

}  // namespace

uint32_t Crc32(std::span<const std::byte> bytes, uint32_t crc) {
  auto* data = reinterpret_cast<const Bytef*>(bytes.data());
  size_t left = bytes.size();
  uLong value = crc;
  while (left > 0) {  // zlib takes uInt lengths
    const auto n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    value = crc32(value, data, n);
    data += n;
    left -= n;
  }
  return static_cast<uint32_t>(value);
}

SectionWriter::SectionWriter(std::string path, uint32_t magic, uint32_t version)
    : path_(std::move(path)), magic_(magic), version_(version) {
  temp_path_ = TempPathFor(path_);
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (file_ == nullptr) GR_THROW(ErrorCode::kIo, "cannot create ", temp_path_, ": ", ErrnoText());
  const uint32_t placeholder[4] = {0, 0, 0, 0};
  Write(placeholder, sizeof(placeholder));
}

SectionWriter::~SectionWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(temp_path_.c_str());
}

void SectionWriter::Write(const void* data, size_t size) {
  if (size > 0 && std::fwrite(data, 1, size, file_) != size)
    GR_THROW(ErrorCode::kIo, "write failed for ", temp_path_, ": ", ErrnoText());
}

void SectionWriter::AddBytes(std::string_view name, uint32_t element_size, uint64_t count,
                             std::span<const std::byte> bytes) {
  GR_CHECK(!committed_, "section '", name, "' added after commit of ", path_);
  GR_CHECK(!name.empty() && name.size() <= kMaxSectionName, "bad section name '", name, "'");
  const auto name_size = static_cast<uint32_t>(name.size());
  const uint32_t crc = Crc32(bytes);
  Write(&name_size, sizeof(name_size));
  Write(name.data(), name.size());
  Write(&element_size, sizeof(element_size));
  Write(&count, sizeof(count));
  Write(&crc, sizeof(crc));
  Write(bytes.data(), bytes.size());
  ++num_sections_;
}

void SectionWriter::Commit() {
  GR_CHECK(!committed_, "double commit of ", path_);
  uint32_t header[4] = {magic_, version_, num_sections_, 0};
  header[3] = Crc32(std::as_bytes(std::span(header, 3)));
  if (std::fseek(file_, 0, SEEK_SET) != 0)
    GR_THROW(ErrorCode::kIo, "seek failed for ", temp_path_, ": ", ErrnoText());
  Write(header, sizeof(header));
  std::FILE* file = file_;
  file_ = nullptr;  // PublishTempFile closes it, also on failure
  PublishTempFile(file, temp_path_, path_);
  committed_ = true;
}

SectionReader::SectionReader(std::string path, uint32_t magic, std::string_view what)
    : path_(std::move(path)) {
  file_ = std::fopen(path_.c_str(), "rb");
  if (file_ == nullptr) GR_THROW(ErrorCode::kIo, "cannot open ", path_, ": ", ErrnoText());
  std::error_code ec;
  file_size_ = std::filesystem::file_size(path_, ec);
  if (ec) GR_THROW(ErrorCode::kIo, "cannot stat ", path_, ": ", ec.message());
  uint32_t header[4];
  if (file_size_ < sizeof(header)) Fail(StrCat("file too short for a ", what, " header"));
  ReadRaw(header, sizeof(header), "header");
  if (header[0] != magic) Fail(StrCat("not a ", what, " file (bad magic)"));
  if (header[3] != Crc32(std::as_bytes(std::span(header, 3)))) Fail("header checksum mismatch");
  version_ = header[1];
  num_sections_ = header[2];
}

SectionReader::~SectionReader() {
  if (file_ != nullptr) std::fclose(file_);
}

void SectionReader::Fail(const std::string& message) const {
  GR_THROW(ErrorCode::kCorruption, path_, " at byte ", offset_, ": ", message);
}

void SectionReader::ReadRaw(void* out, size_t size, std::string_view what) {
  if (size > file_size_ - offset_)
    Fail(StrCat("truncated: ", what, " needs ", size, " bytes, ", file_size_ - offset_,
                " remain"));
  if (size > 0 && std::fread(out, 1, size, file_) != size)
    GR_THROW(ErrorCode::kIo, "read failed for ", path_, " at byte ", offset_, ": ", ErrnoText());
  offset_ += size;
}

uint64_t SectionReader::ReadSectionHeader(std::string_view name, uint32_t element_size) {
  if (sections_read_ >= num_sections_)
    Fail(StrCat("expected section '", name, "' but the file declares only ", num_sections_));
  uint32_t name_size = 0;
  ReadRaw(&name_size, sizeof(name_size), "section name length");
  if (name_size == 0 || name_size > kMaxSectionName)
    Fail(StrCat("bad section name length ", name_size, " where '", name, "' was expected"));
  std::string found(name_size, '\0');
  ReadRaw(found.data(), name_size, "section name");
  if (found != name) Fail(StrCat("expected section '", name, "', found '", Excerpt(found), "'"));
  uint32_t stored_element_size = 0;
  uint64_t count = 0;
  ReadRaw(&stored_element_size, sizeof(stored_element_size), "element size");
  ReadRaw(&count, sizeof(count), "element count");
  ReadRaw(&pending_crc_, sizeof(pending_crc_), "section checksum");
  if (stored_element_size != element_size)
    Fail(StrCat("section '", name, "' has ", stored_element_size, "-byte elements, expected ",
                element_size));
  if (count > (file_size_ - offset_) / element_size)
    Fail(StrCat("section '", name, "' declares ", count, " elements of ", element_size,
                " bytes, but only ", file_size_ - offset_, " bytes remain"));
  ++sections_read_;
  return count;
}

void SectionReader::ReadPayload(std::string_view name, std::span<std::byte> out) {
  ReadRaw(out.data(), out.size(), name);
  if (Crc32(out) != pending_crc_) Fail(StrCat("section '", name, "' checksum mismatch"));
}

std::string SectionReader::ReadString(std::string_view name) {
  const uint64_t count = ReadSectionHeader(name, 1);
  std::string text(count, '\0');
  ReadPayload(name, std::as_writable_bytes(std::span(text.data(), text.size())));
  return text;
}

void SectionReader::ExpectEnd() {
  if (sections_read_ != num_sections_)
    Fail(StrCat(num_sections_ - sections_read_, " unexpected trailing sections"));
  if (offset_ != file_size_) Fail(StrCat(file_size_ - offset_, " unexpected trailing bytes"));
}

}  // namespace gr

// Internal to graph/: containers one writer thread grows while any number of
// reader threads read them without locks (the live graph's delta). Readers
// see a consistent prefix: an element is written before the count that
// covers it is published with a release store, and memory a reader may
// still hold is never freed or moved while the container lives (replaced
// blocks go to a graveyard freed with it; geometric growth keeps that
// within the live size).
#pragma once

#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "core/ids.h"

namespace gr::graph::internal {

// A list that only grows, contiguous for O(1) indexing: when full, the writer
// copies it into a block twice the size and publishes that block. One
// pointer in size, so a table of them costs 8 bytes a vertex and a reader
// reaches the items in one hop; replaced blocks hang off the current one
// (a reader may still be on them) and go with the list.
template <typename T>
class AppendList {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  AppendList() = default;
  AppendList(const AppendList&) = delete;
  AppendList& operator=(const AppendList&) = delete;
  ~AppendList() {
    for (Block* block = block_.load(std::memory_order_relaxed); block != nullptr;) {
      Block* replaced = block->replaced;
      Block::Free(block);
      block = replaced;
    }
  }

  // Reader: the elements published so far.
  std::span<const T> Items() const {
    const Block* block = block_.load(std::memory_order_acquire);
    if (block == nullptr) return {};
    return {block->items(), block->size.load(std::memory_order_acquire)};
  }
  // Reader: a hint to fetch the current block's header and first items;
  // false if the list is empty.
  bool Prefetch() const {
    const Block* block = block_.load(std::memory_order_relaxed);
    if (block != nullptr) __builtin_prefetch(block);
    return block != nullptr;
  }

  // Writer only. Returns the bytes it allocated (a new block), else 0.
  size_t Append(const T& value) {
    size_t allocated = 0;
    Block* block = block_.load(std::memory_order_relaxed);
    const uint32_t size = block == nullptr ? 0 : block->size.load(std::memory_order_relaxed);
    if (block == nullptr || size == block->capacity) {
      Block* grown = Block::Make(block == nullptr ? 4 : 2 * block->capacity);
      if (size > 0) std::memcpy(grown->items(), block->items(), size * sizeof(T));
      grown->size.store(size, std::memory_order_relaxed);
      grown->replaced = block;
      block_.store(grown, std::memory_order_release);
      block = grown;
      allocated = Block::Bytes(block->capacity);
    }
    block->items()[size] = value;
    block->size.store(size + 1, std::memory_order_release);
    return allocated;
  }

  // Bytes held, replaced blocks included.
  size_t MemoryBytes() const {
    size_t bytes = 0;
    for (const Block* block = block_.load(std::memory_order_relaxed); block != nullptr; block = block->replaced)
      bytes += Block::Bytes(block->capacity);
    return bytes;
  }

 private:
  struct Block {
    std::atomic<uint32_t> size{0};
    uint32_t capacity = 0;
    Block* replaced = nullptr;  // the block this one replaced
    static constexpr std::align_val_t kAlign{alignof(T) > alignof(Block*) ? alignof(T) : alignof(Block*)};
    static size_t Bytes(uint32_t capacity) { return sizeof(Block) + size_t{capacity} * sizeof(T); }
    static Block* Make(uint32_t capacity) {
      Block* block = new (::operator new(Bytes(capacity), kAlign)) Block;
      block->capacity = capacity;
      return block;
    }
    static void Free(Block* block) {
      block->~Block();
      ::operator delete(block, kAlign);
    }
    T* items() { return reinterpret_cast<T*>(this + 1); }
    const T* items() const { return reinterpret_cast<const T*>(this + 1); }
  };
  static_assert(sizeof(Block) % alignof(T) == 0);
  std::atomic<Block*> block_{nullptr};
};

// One T per dense id, for ids that only ever grow: chunks of 2^16 entries
// under a fixed top-level table, so an entry never moves. Entries start
// value-initialised; an entry a reader may read concurrently with the
// writer must be an atomic (or be written before the id is published).
template <typename T>
class GrowingTable {
 public:
  static constexpr size_t kChunkBits = 16;
  static constexpr size_t kChunk = size_t{1} << kChunkBits;

  GrowingTable() : chunks_(std::make_unique<std::atomic<T*>[]>((kMaxVertices >> kChunkBits) + 1)) {}
  ~GrowingTable() {
    for (size_t c = 0; c < allocated_.load(std::memory_order_relaxed); ++c)
      delete[] chunks_[c].load(std::memory_order_relaxed);
  }
  GrowingTable(const GrowingTable&) = delete;
  GrowingTable& operator=(const GrowingTable&) = delete;

  // Reader: the entry of `id`, or nullptr if its chunk does not exist yet.
  const T* Find(uint64_t id) const {
    const T* chunk = chunks_[id >> kChunkBits].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : chunk + (id & (kChunk - 1));
  }
  // Reader: a hint to fetch the entry of `id`.
  void Prefetch(uint64_t id) const {
    if (const T* entry = Find(id)) __builtin_prefetch(entry);
  }

  // Writer: the entry of `id`, creating its chunk (and those before it).
  T& At(uint64_t id) {
    const size_t c = id >> kChunkBits;
    for (size_t next = allocated_.load(std::memory_order_relaxed); next <= c; ++next) {
      chunks_[next].store(new T[kChunk](), std::memory_order_release);
      allocated_.store(next + 1, std::memory_order_relaxed);
    }
    return chunks_[c].load(std::memory_order_relaxed)[id & (kChunk - 1)];
  }

  // Any thread (a reader may ask while the writer grows the table).
  size_t MemoryBytes() const { return allocated_.load(std::memory_order_relaxed) * kChunk * sizeof(T); }

 private:
  std::unique_ptr<std::atomic<T*>[]> chunks_;
  std::atomic<size_t> allocated_{0};  // chunks created (written by the writer only)
};

// External id -> dense id for ids added after a snapshot: open addressing,
// insert-only, lock-free lookups. The writer grows it by building a larger
// table and publishing it; readers on the old one still find every id that
// was published before they looked.
class ConcurrentIdTable {
 public:
  ConcurrentIdTable() { Publish(std::make_unique<Table>(64)); }

  // Reader: the dense id of `key`, or kNoVertex.
  VertexId Find(ExternalId key) const {
    const Table* table = current_.load(std::memory_order_acquire);
    for (size_t slot = Slot(key, table->mask);; slot = (slot + 1) & table->mask) {
      const VertexId value = table->values[slot].load(std::memory_order_acquire);
      if (value == kNoVertex) return kNoVertex;
      if (table->keys[slot].load(std::memory_order_relaxed) == key) return value;
    }
  }

  // Writer: adds key -> value (key must be absent).
  void Insert(ExternalId key, VertexId value) {
    Table* table = tables_.back().get();
    if ((size_ + 1) * 2 > table->mask + 1) {
      auto grown = std::make_unique<Table>(2 * (table->mask + 1));
      for (size_t i = 0; i <= table->mask; ++i) {
        const VertexId v = table->values[i].load(std::memory_order_relaxed);
        if (v != kNoVertex) Put(*grown, table->keys[i].load(std::memory_order_relaxed), v);
      }
      Publish(std::move(grown));
      table = tables_.back().get();
    }
    Put(*table, key, value);
    ++size_;
  }

  size_t size() const { return size_; }
  // Any thread: every table made, the replaced ones included (readers may
  // ask while the writer grows it, so not by walking tables_).
  size_t MemoryBytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  struct Table {
    explicit Table(size_t capacity)
        : mask(capacity - 1),
          keys(std::make_unique<std::atomic<ExternalId>[]>(capacity)),
          values(std::make_unique<std::atomic<VertexId>[]>(capacity)) {
      for (size_t i = 0; i < capacity; ++i) values[i].store(kNoVertex, std::memory_order_relaxed);
    }
    size_t mask;
    std::unique_ptr<std::atomic<ExternalId>[]> keys;
    std::unique_ptr<std::atomic<VertexId>[]> values;
  };
  static size_t Slot(ExternalId key, size_t mask) {
    key ^= key >> 33;
    key *= 0xFF51AFD7ED558CCDULL;
    key ^= key >> 33;
    return key & mask;
  }
  // The key is stored before the value that marks the slot used (release).
  static void Put(Table& table, ExternalId key, VertexId value) {
    size_t slot = Slot(key, table.mask);
    while (table.values[slot].load(std::memory_order_relaxed) != kNoVertex) slot = (slot + 1) & table.mask;
    table.keys[slot].store(key, std::memory_order_relaxed);
    table.values[slot].store(value, std::memory_order_release);
  }
  void Publish(std::unique_ptr<Table> table) {
    bytes_.fetch_add((table->mask + 1) * (sizeof(ExternalId) + sizeof(VertexId)), std::memory_order_relaxed);
    current_.store(table.get(), std::memory_order_release);
    tables_.push_back(std::move(table));  // older tables stay for readers still on them
  }

  std::atomic<const Table*> current_{nullptr};
  std::vector<std::unique_ptr<Table>> tables_;  // writer only
  std::atomic<size_t> bytes_{0};
  size_t size_ = 0;
};

}  // namespace gr::graph::internal

// TapQueue: the bounded, lock-free queue from the hot path to the monitor thread.
//
// Many producers (request threads) and one consumer (the monitor). A producer that finds
// the queue full drops its sample and counts the drop; it never waits and never takes a
// lock. The algorithm is D. Vyukov's bounded MPMC queue: each cell carries a sequence
// number that says whether it is free for the producer of a given position or holds the
// value for the consumer of that position.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <vector>

namespace vigil::monitor {

template <typename T>
class TapQueue {
 public:
  // `capacity` is rounded up to a power of two.
  explicit TapQueue(size_t capacity) {
    size_t n = 2;
    while (n < capacity) n <<= 1;
    mask_ = n - 1;
    cells_ = std::make_unique<Cell[]>(n);
    for (size_t i = 0; i < n; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  // Producers: moves `v` in, or returns false (and counts a drop) when full.
  bool TryPush(T&& v) {
    size_t pos = enqueue_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cells_[pos & mask_];
      const size_t seq = c.seq.load(std::memory_order_acquire);
      const intptr_t diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
      if (diff == 0) {
        if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          c.value = std::move(v);
          c.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (diff < 0) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return false;
      } else {
        pos = enqueue_.load(std::memory_order_relaxed);
      }
    }
  }

  // The consumer (one thread): moves the oldest value out, or returns false when empty.
  bool TryPop(T& out) {
    Cell& c = cells_[dequeue_ & mask_];
    const size_t seq = c.seq.load(std::memory_order_acquire);
    if (static_cast<intptr_t>(seq) - static_cast<intptr_t>(dequeue_ + 1) < 0) return false;
    out = std::move(c.value);
    c.value = T();
    c.seq.store(dequeue_ + mask_ + 1, std::memory_order_release);
    ++dequeue_;
    popped_.store(dequeue_, std::memory_order_release);
    return true;
  }

  // Positions claimed by producers so far; everything below it is popped once
  // popped() reaches it.
  size_t pushed() const { return enqueue_.load(std::memory_order_acquire); }
  size_t popped() const { return popped_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  size_t capacity() const { return mask_ + 1; }

 private:
  struct Cell {
    std::atomic<size_t> seq{0};
    T value{};
  };
  static constexpr size_t kLine = 64;

  std::unique_ptr<Cell[]> cells_;
  size_t mask_ = 0;
  alignas(kLine) std::atomic<size_t> enqueue_{0};
  alignas(kLine) size_t dequeue_ = 0;  // consumer only
  std::atomic<size_t> popped_{0};
  alignas(kLine) std::atomic<uint64_t> dropped_{0};
};

}  // namespace vigil::monitor

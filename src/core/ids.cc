#include "core/ids.h"

#include <chrono>

#include <cstdint>
#include <random>

namespace vigil {
namespace {

uint64_t NextRandom() {
  // splitmix64 seeded per thread from the OS.
  thread_local uint64_t state = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

std::string RandomHex128() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int half = 0; half < 2; ++half) {
    uint64_t r = NextRandom();
    for (int i = 0; i < 16; ++i) {
      out[half * 16 + i] = kHex[r & 0xf];
      r >>= 4;
    }
  }
  return out;
}

std::string TimeOrderedHex128() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = RandomHex128();
  uint64_t ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
  for (int i = 11; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[ms & 0xf];
    ms >>= 4;
  }
  return out;
}

std::optional<std::string> TraceIdFromTraceparent(std::string_view h) {
  // version(2) - trace-id(32) - parent-id(16) - flags(2)
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  std::string_view version = h.substr(0, 2), trace = h.substr(3, 32), parent = h.substr(36, 16),
                   flags = h.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) || !IsLowerHex(parent) ||
      !IsLowerHex(flags)) {
    return std::nullopt;
  }
  if (trace.find_first_not_of('0') == std::string_view::npos) return std::nullopt;
  if (version == "00" && h.size() != 55) return std::nullopt;
  return std::string(trace);
}

}  // namespace vigil

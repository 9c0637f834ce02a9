// TimeZone: UTC offsets of an IANA zone ("Europe/Berlin") from the system's zoneinfo
// (TZif files, RFC 8536; $TZDIR or /usr/share/zoneinfo), so on-call handoffs happen at the
// same wall-clock time across daylight-saving changes. Times after the file's last
// transition follow its POSIX TZ footer ("CET-1CEST,M3.5.0,M10.5.0/3"; Mm.w.d rules).
// Immutable after loading; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::oncall {

class TimeZone {
 public:
  // "UTC" (and "Etc/UTC") need no file. NotFound / InvalidArgument naming the zone.
  static Result<std::shared_ptr<const TimeZone>> Load(const std::string& name);
  // From a TZif file's bytes (tests, or zones shipped with a deployment).
  static Result<std::shared_ptr<const TimeZone>> FromTzif(const std::string& name,
                                                          const std::string& bytes);

  const std::string& name() const { return name_; }
  // The UTC offset in effect at the instant `utc_ms`, milliseconds (+3600000 for CET).
  int64_t OffsetMs(int64_t utc_ms) const;
  // The wall-clock time at `utc_ms`, as milliseconds since 1970-01-01T00:00 local.
  int64_t ToLocal(int64_t utc_ms) const { return utc_ms + OffsetMs(utc_ms); }
  // The instant of a wall-clock time. A time repeated when clocks go back is its first
  // instant; a time skipped when they go forward is read with the offset before the jump.
  int64_t FromLocal(int64_t local_ms) const;

 private:
  struct Rule {  // a POSIX TZ string's DST rule
    bool valid = false, dst = false;
    int32_t std_offset = 0, dst_offset = 0;  // seconds east of UTC
    int start_month = 0, start_week = 0, start_day = 0, start_time = 0;
    int end_month = 0, end_week = 0, end_day = 0, end_time = 0;
  };
  static bool ParseRule(const std::string& footer, Rule& rule);
  int32_t RuleOffset(int64_t utc_s) const;

  std::string name_;
  std::vector<int64_t> transitions_;  // seconds UTC, increasing
  std::vector<int32_t> offsets_;      // in effect from transitions_[i]
  int32_t initial_offset_ = 0;        // before the first transition
  Rule rule_;
};

}  // namespace vigil::oncall

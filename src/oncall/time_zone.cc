#include "oncall/time_zone.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigil::oncall {
namespace {

int64_t BigEndian(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

int64_t YearOf(int64_t days) {  // civil_from_days, the year only
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  return static_cast<int64_t>(yoe) + era * 400 + (mp >= 10 ? 1 : 0);
}

// Day `day` (0 = Sunday) of week `week` (1..4, 5 = last) of `month` in `year`: days since 1970.
int64_t RuleDay(int64_t year, int month, int week, int day) {
  const int64_t first = DaysFromCivil(year, static_cast<unsigned>(month), 1);
  const int first_wday = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  int64_t d = first + ((day - first_wday + 7) % 7) + 7 * (week - 1);
  const int64_t next_month = month == 12 ? DaysFromCivil(year + 1, 1, 1)
                                         : DaysFromCivil(year, static_cast<unsigned>(month + 1), 1);
  while (d >= next_month) d -= 7;
  return d;
}

// "[+-]hh[:mm[:ss]]" -> seconds; advances `p`.
bool ParseHms(const char*& p, int32_t& out) {
  int sign = 1;
  if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
  if (!std::isdigit(static_cast<unsigned char>(*p))) return false;
  int32_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    int32_t v = 0;
    if (!std::isdigit(static_cast<unsigned char>(*p))) return false;
    while (std::isdigit(static_cast<unsigned char>(*p))) v = v * 10 + (*p++ - '0');
    parts[i] = v;
    if (*p != ':') break;
    ++p;
  }
  out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool ParseName(const char*& p) {
  if (*p == '<') {
    while (*p && *p != '>') ++p;
    if (*p != '>') return false;
    ++p;
    return true;
  }
  const char* start = p;
  while (std::isalpha(static_cast<unsigned char>(*p))) ++p;
  return p - start >= 3;
}

// ",Mm.w.d[/time]"
bool ParseDate(const char*& p, int& month, int& week, int& day, int& time) {
  if (*p != 'M') return false;  // Jn and n forms: not used by current zones
  ++p;
  char* end = nullptr;
  month = static_cast<int>(std::strtol(p, &end, 10));
  if (*end != '.') return false;
  week = static_cast<int>(std::strtol(end + 1, &end, 10));
  if (*end != '.') return false;
  day = static_cast<int>(std::strtol(end + 1, &end, 10));
  p = end;
  if (month < 1 || month > 12 || week < 1 || week > 5 || day < 0 || day > 6) return false;
  time = 7200;
  if (*p == '/') {
    ++p;
    int32_t t = 0;
    if (!ParseHms(p, t)) return false;
    time = t;
  }
  return true;
}

}  // namespace

bool TimeZone::ParseRule(const std::string& footer, Rule& r) {
  const char* p = footer.c_str();
  if (!ParseName(p)) return false;
  int32_t off = 0;
  if (!ParseHms(p, off)) return false;
  r.std_offset = -off;  // POSIX offsets are west of UTC
  r.valid = true;
  if (!*p) return true;
  if (!ParseName(p)) return false;
  r.dst_offset = r.std_offset + 3600;
  if (*p && *p != ',') {
    if (!ParseHms(p, off)) return false;
    r.dst_offset = -off;
  }
  const bool dates = *p == ',' &&
                     ParseDate(++p, r.start_month, r.start_week, r.start_day, r.start_time) &&
                     *p == ',' && ParseDate(++p, r.end_month, r.end_week, r.end_day, r.end_time);
  if (!dates) {
    r.valid = false;
    return false;
  }
  r.dst = true;
  if (*p != '\0') r.valid = false;
  return r.valid;
}

int32_t TimeZone::RuleOffset(int64_t utc_s) const {
  if (!rule_.dst) return rule_.std_offset;
  const int64_t year = YearOf(FloorDiv(utc_s + rule_.std_offset, 86400));
  // Transitions are given in local time: the start in standard time, the end in DST.
  const int64_t start =
      RuleDay(year, rule_.start_month, rule_.start_week, rule_.start_day) * 86400 +
      rule_.start_time - rule_.std_offset;
  const int64_t end = RuleDay(year, rule_.end_month, rule_.end_week, rule_.end_day) * 86400 +
                      rule_.end_time - rule_.dst_offset;
  const bool in_dst = start < end ? (utc_s >= start && utc_s < end)   // northern hemisphere
                                  : (utc_s >= start || utc_s < end);  // southern
  return in_dst ? rule_.dst_offset : rule_.std_offset;
}

int64_t TimeZone::OffsetMs(int64_t utc_ms) const {
  const int64_t s = FloorDiv(utc_ms, 1000);
  int32_t off;
  if (transitions_.empty() || s < transitions_.front()) {
    off = transitions_.empty() && rule_.valid ? RuleOffset(s) : initial_offset_;
  } else if (s >= transitions_.back() && rule_.valid) {
    off = RuleOffset(s);
  } else {
    const size_t i = static_cast<size_t>(
        std::upper_bound(transitions_.begin(), transitions_.end(), s) - transitions_.begin() - 1);
    off = offsets_[i];
  }
  return static_cast<int64_t>(off) * 1000;
}

int64_t TimeZone::FromLocal(int64_t local_ms) const {
  // The offset just before and after: a wall time maps to local - offset for one of them.
  const int64_t early = local_ms - OffsetMs(local_ms - 86'400'000);
  const int64_t late = local_ms - OffsetMs(local_ms + 86'400'000);
  for (int64_t candidate : {std::min(early, late), std::max(early, late)}) {
    if (ToLocal(candidate) == local_ms) return candidate;
  }
  return early;  // skipped by a jump forward: read with the offset before it
}

Result<std::shared_ptr<const TimeZone>> TimeZone::FromTzif(const std::string& name,
                                                           const std::string& bytes) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  auto bad = [&](const std::string& why) {
    return InvalidArgument("time zone '" + name + "': not a valid TZif file (" + why + ")");
  };
  if (n < 44 || std::memcmp(b, "TZif", 4) != 0) return bad("no TZif header");
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = BigEndian(b + at + 20 + 4 * i, 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  const char version = static_cast<char>(b[4]);
  size_t at = 44;
  int time_size = 4;
  auto block_size = [&](int ts) {
    return static_cast<size_t>(c[3] * ts + c[3] + c[4] * 6 + c[5] + c[2] * (ts + 4) + c[1] + c[0]);
  };
  if (version >= '2') {  // skip the 32-bit block; use the 64-bit one
    at += block_size(4);
    if (at + 44 > n || std::memcmp(b + at, "TZif", 4) != 0) return bad("no second header");
    counts(at, c);
    at += 44;
    time_size = 8;
  }
  if (c[4] <= 0 || at + block_size(time_size) > n) return bad("truncated");
  auto tz = std::make_shared<TimeZone>();
  tz->name_ = name;
  const unsigned char* times = b + at;
  const unsigned char* idx = times + c[3] * time_size;
  const unsigned char* types = idx + c[3];
  std::vector<int32_t> type_offsets(static_cast<size_t>(c[4]));
  for (int64_t i = 0; i < c[4]; ++i) {
    type_offsets[static_cast<size_t>(i)] = static_cast<int32_t>(BigEndian(types + 6 * i, 4));
  }
  tz->initial_offset_ = type_offsets[0];
  for (int64_t i = 0; i < c[3]; ++i) {
    const size_t t = idx[i];
    if (t >= type_offsets.size()) return bad("bad type index");
    tz->transitions_.push_back(BigEndian(times + i * time_size, time_size));
    tz->offsets_.push_back(type_offsets[t]);
  }
  at += block_size(time_size);
  if (version >= '2' && at < n && b[at] == '\n') {
    const size_t end = bytes.find('\n', at + 1);
    if (end != std::string::npos) ParseRule(bytes.substr(at + 1, end - at - 1), tz->rule_);
  }
  if (!tz->rule_.valid && !tz->offsets_.empty()) {
    tz->rule_.valid = true;  // no usable footer: the last offset stays
    tz->rule_.std_offset = tz->offsets_.back();
  }
  return std::shared_ptr<const TimeZone>(std::move(tz));
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const std::string& name) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z") {
    auto tz = std::make_shared<TimeZone>();
    tz->name_ = "UTC";
    return std::shared_ptr<const TimeZone>(std::move(tz));
  }
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) {
    return InvalidArgument("time zone '" + name + "': expected an IANA name such as Europe/Berlin");
  }
  const char* dir = std::getenv("TZDIR");
  const std::string path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("time zone '" + name + "': unknown (no " + path +
                    "; expected an IANA name such as Europe/Berlin, and the tzdata package)");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return FromTzif(name, ss.str());
}

}  // namespace vigil::oncall

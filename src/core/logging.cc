#include "core/logging.h"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <ctime>
#include <mutex>

#include "core/strings.h"

namespace vigil {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

// The process's log sink: one buffer behind one short lock.
struct Sink {
  std::mutex mu;
  std::string buffer;

  void WriteLocked() {
    size_t off = 0;
    while (off < buffer.size()) {
      ssize_t n = ::write(STDERR_FILENO, buffer.data() + off, buffer.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    buffer.clear();
  }
};

Sink& TheSink() {
  static Sink* sink = new Sink();  // never destroyed: logging works during exit
  return *sink;
}

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void AppendTimestamp(std::string& out) {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  out += buf;
}

}  // namespace

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

bool ParseLogLevel(std::string_view name, LogLevel& out) {
  if (name == "debug")
    out = LogLevel::kDebug;
  else if (name == "info")
    out = LogLevel::kInfo;
  else if (name == "warn" || name == "warning")
    out = LogLevel::kWarn;
  else if (name == "error")
    out = LogLevel::kError;
  else
    return false;
  return true;
}

void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (!LogEnabled(level)) return;
  std::string line;
  line.reserve(160);
  line += "{\"ts\":\"";
  AppendTimestamp(line);
  line += "\",\"level\":\"";
  line += LevelName(level);
  line += "\",\"msg\":";
  line += JsonQuote(msg);
  for (const LogField& f : fields) {
    line += ',';
    line += JsonQuote(f.key);
    line += ':';
    if (auto* s = std::get_if<std::string_view>(&f.value)) {
      line += JsonQuote(*s);
    } else if (auto* i = std::get_if<int64_t>(&f.value)) {
      line += std::to_string(*i);
    } else if (auto* d = std::get_if<double>(&f.value)) {
      if (std::isfinite(*d)) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
        line.append(buf, end);
      } else {
        line += "null";
      }
    } else {
      line += std::get<bool>(f.value) ? "true" : "false";
    }
  }
  line += "}\n";
  Sink& sink = TheSink();
  std::lock_guard lock(sink.mu);
  sink.buffer += line;
  if (level >= LogLevel::kWarn || sink.buffer.size() > 32 * 1024) sink.WriteLocked();
}

void FlushLogs() {
  Sink& sink = TheSink();
  std::lock_guard lock(sink.mu);
  sink.WriteLocked();
}

}  // namespace vigil

#include "monitor/dataset.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace vigil::monitor {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Parses a whole cell as a finite double.
bool ParseNumber(std::string_view s, double& out) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && std::isfinite(out);
}

void Append(Column& c, std::string cell) {
  double v = kNaN;
  if (IsMissingText(cell)) {
    cell.clear();
  } else if (!ParseNumber(cell, v)) {
    v = kNaN;
    ++c.non_numeric;
  }
  c.values.push_back(v);
  c.texts.push_back(std::move(cell));
}

// Splits one CSV record starting at `pos`; advances `pos` past its line end. Quoted
// fields may contain separators, doubled quotes and newlines.
Status NextRecord(const std::string& text, size_t& pos, std::vector<std::string>& fields,
                  const std::string& file, int64_t& line) {
  fields.clear();
  std::string cur;
  bool quoted = false, was_quoted = false;
  const int64_t start_line = line;
  while (pos < text.size()) {
    char ch = text[pos++];
    if (quoted) {
      if (ch == '"') {
        if (pos < text.size() && text[pos] == '"') {
          cur.push_back('"');
          ++pos;
        } else {
          quoted = false;
        }
      } else {
        if (ch == '\n') ++line;
        cur.push_back(ch);
      }
      continue;
    }
    if (ch == '"' && cur.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (ch == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else if (ch == '\n') {
      ++line;
      break;
    } else if (ch != '\r') {
      cur.push_back(ch);
    }
  }
  if (quoted) {
    return InvalidArgument(file + ":" + std::to_string(start_line) + ": unterminated quoted field");
  }
  fields.push_back(std::move(cur));
  return Status::Ok();
}

}  // namespace

bool IsMissingText(std::string_view cell) {
  while (!cell.empty() && (cell.back() == ' ' || cell.back() == '\r')) cell.remove_suffix(1);
  while (!cell.empty() && cell.front() == ' ') cell.remove_prefix(1);
  return cell.empty() || cell == "NA" || cell == "NaN" || cell == "nan" || cell == "null" ||
         cell == "None";
}

const Column* Dataset::Find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Result<Dataset> ParseCsv(const std::string& text, const std::string& file) {
  Dataset ds;
  size_t pos = 0;
  int64_t line = 1;
  std::vector<std::string> fields;
  // Skip a UTF-8 byte order mark.
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;
  VIGIL_RETURN_IF_ERROR(NextRecord(text, pos, fields, file, line));
  if (fields.size() == 1 && fields[0].empty()) {
    return InvalidArgument(file + ": empty file (expected a header row)");
  }
  std::map<std::string, int> seen;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].empty()) {
      return InvalidArgument(file + ":1: column " + std::to_string(i + 1) + " has no name");
    }
    if (seen[fields[i]]++) {
      return InvalidArgument(file + ":1: duplicate column '" + fields[i] + "'");
    }
    ds.columns.push_back(Column{fields[i], {}, {}, 0});
  }
  while (pos < text.size()) {
    const int64_t record_line = line;
    VIGIL_RETURN_IF_ERROR(NextRecord(text, pos, fields, file, line));
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != ds.columns.size()) {
      return InvalidArgument(file + ":" + std::to_string(record_line) + ": expected " +
                             std::to_string(ds.columns.size()) +
                             " fields (as in the header), got " + std::to_string(fields.size()));
    }
    for (size_t i = 0; i < fields.size(); ++i) Append(ds.columns[i], std::move(fields[i]));
    ++ds.rows;
  }
  return ds;
}

Result<Dataset> ParseJsonLines(const std::string& text, const std::string& file) {
  Dataset ds;
  std::map<std::string, size_t, std::less<>> index;
  std::istringstream in(text);
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    rapidjson::Document doc;
    doc.Parse(line.c_str(), line.size());
    if (doc.HasParseError()) {
      return InvalidArgument(file + ":" + std::to_string(n) +
                             ": invalid JSON: " + rapidjson::GetParseError_En(doc.GetParseError()));
    }
    if (!doc.IsObject()) {
      return InvalidArgument(file + ":" + std::to_string(n) + ": expected a JSON object per line");
    }
    std::vector<bool> filled(ds.columns.size(), false);
    for (auto& m : doc.GetObject()) {
      std::string key(m.name.GetString(), m.name.GetStringLength());
      auto it = index.find(key);
      if (it == index.end()) {
        Column c{key, std::vector<double>(ds.rows, kNaN), std::vector<std::string>(ds.rows), 0};
        it = index.emplace(key, ds.columns.size()).first;
        ds.columns.push_back(std::move(c));
        filled.push_back(false);
      }
      Column& c = ds.columns[it->second];
      filled[it->second] = true;
      const rapidjson::Value& v = m.value;
      if (v.IsNumber()) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.GetDouble());
        c.values.push_back(v.GetDouble());
        c.texts.emplace_back(buf, ec == std::errc() ? end : buf);
      } else if (v.IsBool()) {
        c.values.push_back(v.GetBool() ? 1.0 : 0.0);
        c.texts.emplace_back(v.GetBool() ? "true" : "false");
      } else if (v.IsString()) {
        Append(c, std::string(v.GetString(), v.GetStringLength()));
      } else if (v.IsNull()) {
        c.values.push_back(kNaN);
        c.texts.emplace_back();
      } else {
        return InvalidArgument(file + ":" + std::to_string(n) + ": field '" + key +
                               "': expected a number, string, boolean or null");
      }
    }
    for (size_t i = 0; i < filled.size(); ++i) {
      if (!filled[i]) {
        ds.columns[i].values.push_back(kNaN);
        ds.columns[i].texts.emplace_back();
      }
    }
    ++ds.rows;
  }
  if (ds.columns.empty()) return InvalidArgument(file + ": no rows");
  return ds;
}

Result<Dataset> ReadDataset(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  const std::string ext = path.extension().string();
  if (ext == ".jsonl" || ext == ".ndjson" || ext == ".json") {
    return ParseJsonLines(ss.str(), path.string());
  }
  return ParseCsv(ss.str(), path.string());
}

}  // namespace vigil::monitor

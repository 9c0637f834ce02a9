// Dataset: a table read from a CSV file (with a header) or JSON lines, column by column.
//
// Offline commands (`vigil profile build`, `vigil drift --reference --current`,
// `vigil skew`) read their input with ReadDataset. Every column is kept as text and, where
// the text is a number, as a double: an empty cell, "NA", "NaN", "null" (or a JSON null or
// a missing key) is a missing value (NaN, empty text).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil::monitor {

struct Column {
  std::string name;
  std::vector<double> values;      // NaN where missing or not a number
  std::vector<std::string> texts;  // the cell as written ("" when missing)
  int64_t non_numeric = 0;         // cells present but not a number
};

struct Dataset {
  std::vector<Column> columns;
  int64_t rows = 0;

  // nullptr when absent.
  const Column* Find(std::string_view name) const;
};

// CSV (RFC 4180 quoting, ',' separator, header row) unless the file name ends in
// .jsonl, .ndjson or .json (one JSON object per line). Errors name the file, line and
// column.
Result<Dataset> ReadDataset(const std::filesystem::path& path);
Result<Dataset> ParseCsv(const std::string& text, const std::string& file);
Result<Dataset> ParseJsonLines(const std::string& text, const std::string& file);

// True for the spellings of a missing value in a CSV cell.
bool IsMissingText(std::string_view cell);

}  // namespace vigil::monitor

// The CLI's monitoring commands: profile build, drift (online and offline), quality,
// performance, feedback and skew. Each returns the process exit code (0 ok, 1 server or
// I/O error, 2 usage or input error).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil::cli {

struct ServerTarget {
  std::string url;
  std::string token;
};

struct ProfileBuildArgs {
  std::string model;
  std::string data;
  std::string repository;
  int64_t version = 0;  // 0: production_version, else the newest
  std::string output;   // "" = <repository>/<model>/reference.json
  bool predictions = true;
  int bins = 100;
};
int ProfileBuild(const ProfileBuildArgs& args);

struct DriftArgs {
  std::string model;      // online
  int64_t version = 0;    // online, 0 = production
  std::string window;     // online, "" = the model's default
  std::string reference;  // offline
  std::string current;    // offline
  std::string method = "auto";
  std::string correction = "bh";
  double threshold = 0;  // 0 = the method's default
  bool json = false;
};
int Drift(const DriftArgs& args, const ServerTarget& server);

int Quality(const std::string& model, int64_t version, const std::string& window, bool json,
            const ServerTarget& server);
int Performance(const std::string& model, int64_t version, bool json, const ServerTarget& server);

// Labels from FILE (CSV or JSON lines with prediction_id or id [+ row], and label), or one.
struct FeedbackArgs {
  std::string file;
  std::string prediction_id;
  std::string label;
};
int Feedback(const FeedbackArgs& args, const ServerTarget& server);

struct SkewArgs {
  std::string model;
  std::string data;
  std::string id_column;  // "" = prediction_id, else id
  double tolerance = 1e-6;
  bool json = false;
};
int Skew(const SkewArgs& args, const ServerTarget& server);

// `vigil alerts silence --matcher M... --duration D [--comment C]`, `silences`,
// `expire ID`, `ack FINGERPRINT`.
int AlertsSilence(const std::vector<std::string>& matchers, const std::string& duration,
                  const std::string& comment, const ServerTarget& server);
int AlertsSilences(const ServerTarget& server);
int AlertsExpire(const std::string& id, const ServerTarget& server);
int AlertsAck(const std::string& fingerprint, const ServerTarget& server);

// `vigil alerts list [--state S] [--model M] [--json]`.
int AlertsList(const std::string& state, const std::string& model, bool json,
               const ServerTarget& server);

}  // namespace vigil::cli

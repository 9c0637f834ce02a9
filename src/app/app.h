// App: wires the modules for `vigil serve` and owns their threads and shutdown.
#pragma once

#include "app/server_config.h"

namespace vigil {

// Serves until SIGTERM or SIGINT, then drains in-flight requests and returns the
// process exit code (0 on a clean shutdown, 1 when the server could not start).
int RunServer(const ServerConfig& config);

}  // namespace vigil

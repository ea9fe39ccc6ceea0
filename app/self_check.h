// `jetchat --self-check`: the installed app proves it works without a display or a person. It loads the real QML
// UI (offscreen unless a platform is given), loads the configured model (or the first found, the built-in demo at
// worst) and streams a short reply through the normal controller path, printing one line per step.
// Nothing the user owns is written: settings are a temporary copy and conversations go to a temporary folder.
// Thread contract: main thread, after QGuiApplication exists; runs its own event loop.
#pragma once

#include "app_options.h"

namespace SelfCheck {

// Runs every step and returns the process exit code: 0 when all passed, 1 when one failed (its line says which).
int run(const AppOptions& options);

}  // namespace SelfCheck

// The values come from Package.swift, which reads VERSION and HEALER_COMMIT (or the checkout's HEAD).
#include "build_info.h"

#ifndef HEALER_VERSION
#define HEALER_VERSION "0.0.0"
#endif
#ifndef HEALER_COMMIT
#define HEALER_COMMIT "unknown"
#endif

const char *healer_build_version(void) { return HEALER_VERSION; }
const char *healer_build_commit(void) { return HEALER_COMMIT; }

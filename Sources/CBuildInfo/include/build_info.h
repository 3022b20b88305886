#ifndef HEALER_BUILD_INFO_H
#define HEALER_BUILD_INFO_H

/// The release version, from the VERSION file.
const char *healer_build_version(void);
/// The git commit the binary was built from, or "unknown".
const char *healer_build_commit(void);

#endif

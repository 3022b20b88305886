#ifndef HEALER_SPAWN_SHIM_H
#define HEALER_SPAWN_SHIM_H

#include <spawn.h>

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+), which Swift's Glibc module does not show: the child
/// closes every descriptor from `from` up.
int healer_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif

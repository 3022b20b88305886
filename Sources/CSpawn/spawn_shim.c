#define _GNU_SOURCE
#include "spawn_shim.h"

int healer_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

/* The table of attnlab's subcommands, in the order `attnlab --help` lists them.
 * Kept in the library so tests can run a command in-process exactly as the program does. */
#include <stddef.h>

#include "commands.h"

const al_command al_commands[] = {
    {"info", al_cmd_info, "datasets, shapes, dtypes and attributes of a recording, and the analyses it supports"},
    {"sinks", al_cmd_sinks, "attention sinks: key importance alpha, sink rate Sink_k, hidden sinks"},
    {"import", al_cmd_import, "convert a .npy map dump or a single-array HDF5 file into a format-v1 recording"},
    {"synth", al_cmd_synth, "write a synthetic recording with planted structure (sinks, local and retrieval heads)"},
    {NULL, NULL, NULL},
};

/*
 * loom public API. Library calls return a loom_status and describe failures
 * in a diagnostic; only the command-line tools print and exit.
 */
#ifndef LOOM_H
#define LOOM_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum loom_status {
    LOOM_STATUS_OK = 0,
    LOOM_STATUS_INVALID_MODEL, /* malformed input: bad syntax, bad graph */
    LOOM_STATUS_UNSUPPORTED,   /* well-formed but uses what loom lacks */
    LOOM_STATUS_IO,            /* a file could not be read or written */
    LOOM_STATUS_NOMEM,         /* out of memory */
    LOOM_STATUS_INVALID_ARG,   /* bad argument to an API call */
    LOOM_STATUS_INTERNAL       /* a bug in loom */
} loom_status;

/* A short constant description of a status. */
const char *loom_status_name(loom_status s);

#ifdef __cplusplus
}
#endif

#endif

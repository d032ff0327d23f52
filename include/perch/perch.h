/*
 * perch — an embeddable CDN edge: cache, origins, CloudFront-shaped configuration.
 *
 * This is the whole public interface: plain C99, opaque handles, size-tagged options.
 * Conventions (every declaration's comment repeats what applies):
 * - Statuses are negative on error (PERCH_E_*), 0 on success; values never change.
 * - Inputs are borrowed for the duration of the call. Strings are pointer + length and need
 *   no NUL terminator unless the parameter says "NUL-terminated".
 * - Options structs start with struct_size; fill them with perch_<x>_options_init(&o, sizeof o).
 *   Zero means "default" for every field.
 * - create/destroy for owned handles, ref/unref for shared ones. Passing NULL to destroy or
 *   unref does nothing.
 * - A call that fails never invokes its callback.
 * - Every callback type takes the host's user pointer FIRST, then the handle and the event's
 *   arguments (perch_log_cb, perch_runtime_shutdown_cb). Callback types added later follow the
 *   same order.
 * - Unless a function says "Thread: any", call it on the thread that drives the runtime
 *   (for config and cache handles: any thread that does not race with their destruction).
 */
#ifndef PERCH_PERCH_H
#define PERCH_PERCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PERCH_API __attribute__((visibility("default")))
#else
#define PERCH_API
#endif

/* ---- version ------------------------------------------------------------------------------ */

#define PERCH_VERSION_MAJOR 0
#define PERCH_VERSION_MINOR 1
#define PERCH_VERSION_PATCH 0
/* 0xMMmmpp: major, minor, patch. */
#define PERCH_VERSION_HEX 0x000100

/* The library's version as PERCH_VERSION_HEX (of the library loaded, not of this header).
 * Thread: any. Returns: the version number. Errors: none. */
PERCH_API uint32_t perch_version(void);

/* The library's version as "0.1.0". Thread: any. Ownership: static string. Errors: none. */
PERCH_API const char *perch_version_string(void);

/* ---- statuses ----------------------------------------------------------------------------- */

typedef int32_t perch_status;

#define PERCH_OK 0
#define PERCH_E_INVALID_ARGUMENT (-1) /* a NULL or out-of-range argument */
#define PERCH_E_NOMEM (-2)            /* memory allocation failed */
#define PERCH_E_INTERNAL (-3)         /* a bug: please report it */
#define PERCH_E_INVALID_HANDLE (-4)   /* NULL, destroyed, or a handle of another type */
#define PERCH_E_REENTRANT (-5)        /* a loop-driving call made from inside a callback */
#define PERCH_E_CONFIG (-6)           /* the configuration is invalid (see last_error) */
#define PERCH_E_IO (-7)               /* an operating-system I/O error (see last_error) */
#define PERCH_E_STATE (-8)            /* not allowed in the handle's current state */
#define PERCH_E_ORIGIN_CONNECT (-9)
#define PERCH_E_ORIGIN_TIMEOUT (-10)
#define PERCH_E_ORIGIN_PROTOCOL (-11)
#define PERCH_E_VIEWER_PROTOCOL (-12)
#define PERCH_E_UNSUPPORTED (-13)
#define PERCH_E_NOT_FOUND (-14)
#define PERCH_E_CANCELLED (-15)
#define PERCH_E_TLS (-16)
#define PERCH_E_TOO_LARGE (-17)

/* A short English description of a status ("I/O error").
 * Thread: any. Ownership: static string. Returns: never NULL. Errors: none. */
PERCH_API const char *perch_strerror(perch_status status);

/* The status's name ("PERCH_E_IO"). Thread: any. Ownership: static string. Returns: never
 * NULL ("PERCH_E_UNKNOWN" for unknown values). Errors: none. */
PERCH_API const char *perch_status_name(perch_status status);

/* ---- shared types ------------------------------------------------------------------------- */

/* Bytes: ptr may be NULL when len is 0. */
typedef struct perch_slice {
    const uint8_t *ptr;
    size_t len;
} perch_slice;

/* ---- configuration ------------------------------------------------------------------------ */

/* A distribution configuration: JSON shaped like Terraform's aws_cloudfront_distribution
 * (see README.md). Shared and immutable once loaded. */
typedef struct perch_config perch_config;

/* Creates an empty configuration handle with one reference.
 * Thread: any. Ownership: the caller owns the reference; drop it with perch_config_unref().
 * Returns: PERCH_OK and *out set. Errors: PERCH_E_INVALID_ARGUMENT (out is NULL),
 * PERCH_E_NOMEM. */
PERCH_API perch_status perch_config_create(perch_config **out);

/* Parses, validates and loads a JSON configuration; TLS certificate files it names are read
 * now. Relative paths in it are resolved against base_dir (NUL-terminated; NULL: the current
 * directory). A configuration is loaded once; nothing is half-applied on error.
 * Thread: any, but not concurrently with other calls on this handle.
 * Ownership: json and base_dir are borrowed.
 * Returns: PERCH_OK. Errors: PERCH_E_CONFIG (perch_config_last_error() has every problem
 * found, one per line: the JSON path and the reason), PERCH_E_STATE (already loaded),
 * PERCH_E_INVALID_HANDLE, PERCH_E_INVALID_ARGUMENT, PERCH_E_NOMEM. */
PERCH_API perch_status perch_config_load_json(perch_config *config, const char *json,
                                              size_t json_len, const char *base_dir);

/* Like perch_config_load_json() with the contents of a file; relative paths in it are
 * resolved against the file's directory. path is NUL-terminated.
 * Thread: any, but not concurrently with other calls on this handle. Returns: PERCH_OK.
 * Errors: as perch_config_load_json(), plus PERCH_E_IO (the file cannot be read). */
PERCH_API perch_status perch_config_load_file(perch_config *config, const char *path);

/* The message of the last failed call on this handle, or "" if none. After PERCH_E_CONFIG it
 * has one line per error ("<json path>: <reason>", in document order; after 100 of them a
 * last line "... and N more errors"), separated by '\n', with no final line break.
 * Thread: as the failed call. Ownership: owned by the handle, valid until the next call on it
 * or its release. Returns: never NULL (for an invalid handle: a static message). */
PERCH_API const char *perch_config_last_error(const perch_config *config);

/* Adds / drops a reference. The handle is freed when the last reference is dropped.
 * Thread: any. Errors: none (invalid handles are ignored). */
PERCH_API void perch_config_ref(perch_config *config);
PERCH_API void perch_config_unref(perch_config *config);

/* Process settings from the loaded configuration's root "perch" object.
 * Thread: any. Returns: perch.workers resolved (0 in the file means the number of cores), or
 * 0 for an invalid or unloaded handle. */
PERCH_API uint32_t perch_config_workers(const perch_config *config);

/* perch.shutdown_timeout in milliseconds (0 for an invalid or unloaded handle). Thread: any. */
PERCH_API uint32_t perch_config_shutdown_timeout_ms(const perch_config *config);

/* A human-readable summary of the loaded configuration, one item per line: listen addresses,
 * origins, cache behaviors, cache size ("listen http://127.0.0.1:8080\n", "origin site:
 * directory /srv/site\n", ...). For logs and --check-config output; not a stable format.
 * Thread: any. Ownership: owned by the handle, valid while it lives. Returns: "" for an
 * invalid or unloaded handle. */
PERCH_API const char *perch_config_describe(const perch_config *config);

/* The index-th address of the loaded configuration's perch.listen, as written there
 * ("http://127.0.0.1:8080", "https://[::1]:8443"; the default when perch.listen is absent).
 * HOST is numeric or "localhost" (which perch binds as 127.0.0.1). For hosts that check
 * addresses themselves, e.g. that no other process serves them (perch-proxy).
 * Thread: any. Ownership: owned by the handle, valid while it lives. Returns: a NUL-terminated
 * URL, or NULL when index is not below the number of addresses, or for an invalid or unloaded
 * handle. */
PERCH_API const char *perch_config_listen_url(const perch_config *config, uint32_t index);

/* ---- cache -------------------------------------------------------------------------------- */

/* A cache store, shared by every runtime given it (each thread's runtime, typically).
 * Thread: the handle may be used from any thread. */
typedef struct perch_cache perch_cache;

typedef struct perch_cache_options {
    uint32_t struct_size;
    uint64_t memory_bytes;     /* byte budget; 0: the config's perch.cache.memory, or 256 MiB */
    uint64_t max_object_bytes; /* largest object stored; 0: memory_bytes / 8 */
} perch_cache_options;

/* Fills options with defaults. Thread: any. Errors: none. */
PERCH_API void perch_cache_options_init(perch_cache_options *options, uint32_t struct_size);

/* Creates an in-memory cache with one reference. config (may be NULL) supplies defaults.
 * Thread: any. Ownership: options and config are borrowed; drop the cache with
 * perch_cache_unref(). Returns: PERCH_OK and *out set. Errors: PERCH_E_INVALID_ARGUMENT,
 * PERCH_E_INVALID_HANDLE (config), PERCH_E_NOMEM. */
PERCH_API perch_status perch_cache_create(const perch_config *config,
                                          const perch_cache_options *options, perch_cache **out);

/* Adds / drops a reference. Thread: any. Errors: none. */
PERCH_API void perch_cache_ref(perch_cache *cache);
PERCH_API void perch_cache_unref(perch_cache *cache);

typedef struct perch_cache_stats {
    uint32_t struct_size;
    uint64_t entries;
    uint64_t bytes_used;   /* stored objects with their overhead, and inserts in progress */
    uint64_t bytes_budget;
    uint64_t evictions;
    uint64_t inserts;
    uint64_t invalidated;  /* objects removed by invalidation */
} perch_cache_stats;

/* Reads the cache's counters. Set out->struct_size = sizeof *out first; only that prefix is
 * written. Thread: any. Returns: PERCH_OK. Errors: PERCH_E_INVALID_HANDLE,
 * PERCH_E_INVALID_ARGUMENT. */
PERCH_API perch_status perch_cache_get_stats(const perch_cache *cache, perch_cache_stats *out);

/* What perch_cache_invalidate() did. Set struct_size = sizeof the struct first; the library
 * writes only the prefix that struct_size covers, so callers built against an older, shorter
 * version keep working (fields are appended only). */
typedef struct perch_cache_invalidate_result {
    uint32_t struct_size;
    uint64_t removed;           /* objects removed (0 when the call fails) */
    uint64_t refused_index;     /* index in paths of the first refused path; 0 if none */
    const char *refused_reason; /* why it was refused ("must start with '/'"): a static,
                                   NUL-terminated string owned by the library; NULL if no path
                                   was refused */
} perch_cache_invalidate_result;

/* Invalidates objects by path, as CloudFront invalidations do. A path without '*' removes
 * that path (with every query string and variant of it); a path ending in '*' removes every
 * path that starts with what precedes the '*' (for example "/img/" then '*'; "/" then '*'
 * removes everything). '*' is allowed only as the last character; matching is
 * case-sensitive. Paths are normalized as request paths are ("/a%2Eb" is "/a.b", "/a/../b"
 * is "/b"). Every path is checked before anything is removed: if one is refused, nothing is
 * invalidated. Takes effect at once for every runtime sharing the cache. The admin endpoint
 * (perch_runtime_listen_admin) checks paths the same way.
 * Why a path was refused comes back through result, not through a last_error of the handle:
 * the cache handle is shared between threads, so a message kept in it could be overwritten by
 * another thread's call before this caller read it.
 * Thread: any. Ownership: paths are borrowed; result (may be NULL) is the caller's, and its
 * refused_reason is a static string (never freed, valid forever).
 * Returns: PERCH_OK, result->removed = objects removed, result->refused_reason = NULL.
 * Errors: PERCH_E_INVALID_ARGUMENT with result->refused_index and result->refused_reason set
 * (a path that does not start with '/', has '*' elsewhere than at its end, is longer than 4000
 * bytes, has a query string ('?' or '#'), a byte that should be percent-encoded (space,
 * control or non-ASCII) or a malformed escape, or has a NULL ptr with a non-zero len);
 * PERCH_E_INVALID_ARGUMENT with refused_reason NULL (paths is NULL while count is not 0, or
 * result->struct_size is smaller than a uint32_t: then result is not written);
 * PERCH_E_INVALID_HANDLE, PERCH_E_NOMEM. On every error result->removed is 0 (after
 * PERCH_E_NOMEM some objects may have been removed nonetheless). */
PERCH_API perch_status perch_cache_invalidate(perch_cache *cache, const perch_slice *paths,
                                              size_t count, perch_cache_invalidate_result *result);

/* ---- runtime ------------------------------------------------------------------------------ */

/* The edge on one event loop: origin connections, viewer listeners, transactions. Use one
 * runtime per thread; share the config and the cache between them. */
typedef struct perch_runtime perch_runtime;

#define PERCH_LOOP_EXTERNAL 0 /* the host's uv_loop_t (options.uv_loop); the host runs it */
#define PERCH_LOOP_OWN 1      /* the runtime's own loop, driven by perch_runtime_run() or by
                                 perch_runtime_backend_fd() + perch_runtime_step() */

/* Log levels, from the most severe; a runtime logs its options.log_level and those above it
 * (PERCH_LOG_ERROR: errors only). 0 is not a level: in perch_runtime_options.log_level it means
 * the default, PERCH_LOG_WARN; any other value is refused. */
#define PERCH_LOG_ERROR 1
#define PERCH_LOG_WARN 2
#define PERCH_LOG_INFO 3
#define PERCH_LOG_DEBUG 4

/* A log line; level is one of PERCH_LOG_*. request_id is empty (id_len 0) for messages not
 * tied to a request. Thread: called on the runtime's thread. Ownership: both strings live
 * only during the call. */
typedef void (*perch_log_cb)(void *user, int32_t level, const char *request_id, size_t id_len,
                             const char *message, size_t message_len);

typedef struct perch_runtime_options {
    uint32_t struct_size;
    uint32_t loop_mode;  /* PERCH_LOOP_EXTERNAL (needs uv_loop) or PERCH_LOOP_OWN */
    void *uv_loop;       /* uv_loop_t * for PERCH_LOOP_EXTERNAL */
    perch_cache *cache;  /* shared cache (a reference is taken); NULL: a cache of the runtime's
                            own, sized by the config */
    perch_log_cb log;    /* NULL: lines go to stderr as "perch <level> [<id>] <message>" */
    void *log_user;
    int32_t log_level;   /* most verbose level logged (PERCH_LOG_*); 0: PERCH_LOG_WARN */
} perch_runtime_options;

/* Fills options with defaults. Thread: any. Errors: none. */
PERCH_API void perch_runtime_options_init(perch_runtime_options *options, uint32_t struct_size);

/* Creates a runtime for a loaded config (a reference to it is kept).
 * Thread: the thread that will drive the loop. Ownership: destroy with perch_runtime_destroy().
 * Returns: PERCH_OK and *out set. Errors: PERCH_E_INVALID_HANDLE (config, options.cache),
 * PERCH_E_STATE (config not loaded), PERCH_E_INVALID_ARGUMENT (loop mode, missing uv_loop,
 * log_level neither 0 nor a PERCH_LOG_* value), PERCH_E_UNSUPPORTED (libuv older than 1.44
 * loaded), PERCH_E_NOMEM. */
PERCH_API perch_status perch_runtime_create(perch_config *config,
                                            const perch_runtime_options *options,
                                            perch_runtime **out);

/* Stops everything at once (in-flight requests are cut) and frees the runtime. With an
 * external loop, the last handles close on the loop's next turns: keep running it until
 * uv_run returns. No callback fires after this call. May be called from a perch callback.
 * Thread: the runtime's. Errors: none. */
PERCH_API void perch_runtime_destroy(perch_runtime *runtime);

/* The message of the last failed call on this runtime, or "". Thread: the runtime's.
 * Ownership: the runtime's, valid until the next call on it. Returns: never NULL. */
PERCH_API const char *perch_runtime_last_error(const perch_runtime *runtime);

/* Starts the built-in HTTP/1.1 server on url ("http://127.0.0.1:8080", "https://[::1]:8443";
 * port 0 picks a free port). Several runtimes may listen on the same address (SO_REUSEPORT):
 * the kernel spreads connections between them.
 * Thread: the runtime's. Returns: PERCH_OK, *bound_port (may be NULL) = the port.
 * Errors: PERCH_E_INVALID_ARGUMENT (url), PERCH_E_CONFIG (https without perch.tls),
 * PERCH_E_IO (bind or listen failed, e.g. address in use), PERCH_E_STATE (shutting down),
 * PERCH_E_INVALID_HANDLE. */
PERCH_API perch_status perch_runtime_listen(perch_runtime *runtime, const char *url,
                                            size_t url_len, uint16_t *bound_port);

/* Listens on every perch.listen address of the config. Stops at the first failure (earlier
 * listeners stay open). Thread: the runtime's. Returns: PERCH_OK.
 * Errors: as perch_runtime_listen(). */
PERCH_API perch_status perch_runtime_listen_configured(perch_runtime *runtime);

/* Starts the admin endpoint described by the config's perch.admin (an HTTP/1.1 listener on
 * its own address, never shared with other sockets): POST /invalidations with
 * "Authorization: Bearer TOKEN" and {"paths": ["/a.html", ...]} invalidates this
 * runtime's cache (shared caches: for every runtime) and answers 201 with a CloudFront-shaped
 * invalidation record; GET /invalidations/ID returns one of the last 100 records. Start it on
 * one runtime only. perch_runtime_shutdown() and perch_runtime_destroy() close it.
 * Thread: the runtime's. Returns: PERCH_OK, *bound_port (may be NULL) = the port.
 * Errors: PERCH_E_NOT_FOUND (the config has no perch.admin), PERCH_E_IO (bind or listen
 * failed, e.g. address in use), PERCH_E_STATE (shutting down), PERCH_E_INVALID_HANDLE,
 * PERCH_E_NOMEM. */
PERCH_API perch_status perch_runtime_listen_admin(perch_runtime *runtime, uint16_t *bound_port);

/* The end of a graceful shutdown (see perch_runtime_shutdown); user first, as in every
 * callback. Thread: called on the runtime's thread. */
typedef void (*perch_runtime_shutdown_cb)(void *user, perch_runtime *runtime);

/* Graceful stop: stops accepting, closes idle connections, lets responses in progress finish
 * for up to grace_ms, then closes the rest. cb (may be NULL) fires once, on the runtime's
 * thread, when no viewer connection remains: from inside this call if none is open. Calling
 * it again replaces the callback. Then destroy the runtime (also allowed from inside cb).
 * Thread: the runtime's. Returns: PERCH_OK. Errors: PERCH_E_INVALID_HANDLE. */
PERCH_API perch_status perch_runtime_shutdown(perch_runtime *runtime, uint32_t grace_ms,
                                              perch_runtime_shutdown_cb cb, void *user);

/* PERCH_LOOP_OWN: runs the loop until it has nothing left to do (after a shutdown).
 * Thread: the runtime's. Returns: PERCH_OK. Errors: PERCH_E_STATE (external loop),
 * PERCH_E_REENTRANT (called from a perch callback), PERCH_E_INVALID_HANDLE. */
PERCH_API perch_status perch_runtime_run(perch_runtime *runtime);

/* PERCH_LOOP_OWN, embedded in another event loop: watch this fd for readability, and call
 * perch_runtime_step() when it is readable or perch_runtime_timeout_ms() has passed.
 * Thread: the runtime's. Returns: the fd, or -1 (invalid handle, external loop). */
PERCH_API int perch_runtime_backend_fd(const perch_runtime *runtime);

/* Milliseconds until the runtime needs perch_runtime_step() even without I/O; -1: no timer.
 * Thread: the runtime's. */
PERCH_API int32_t perch_runtime_timeout_ms(const perch_runtime *runtime);

/* Runs whatever is ready without blocking. Thread: the runtime's. Returns: PERCH_OK.
 * Errors: PERCH_E_STATE (external loop), PERCH_E_REENTRANT, PERCH_E_INVALID_HANDLE. */
PERCH_API perch_status perch_runtime_step(perch_runtime *runtime);

typedef struct perch_runtime_stats {
    uint32_t struct_size;
    uint64_t requests;
    uint64_t hits;          /* Hit and RefreshHit */
    uint64_t refresh_hits;
    uint64_t misses;
    uint64_t errors;        /* 5xx responses generated by the edge */
    uint64_t bytes_out;     /* bytes written to viewers */
    uint64_t connections_accepted;
    uint64_t connections_active;
    uint64_t origin_fetches;
    uint64_t rejected; /* requests refused as malformed (bad framing, fields, Host); each
                          answered 4xx, then its connection closed */
} perch_runtime_stats;

/* Reads the runtime's counters. Set out->struct_size = sizeof *out first.
 * Thread: any (the counters are read atomically one by one). Returns: PERCH_OK.
 * Errors: PERCH_E_INVALID_HANDLE, PERCH_E_INVALID_ARGUMENT. */
PERCH_API perch_status perch_runtime_get_stats(const perch_runtime *runtime,
                                               perch_runtime_stats *out);

/* The cache this runtime uses (borrowed: valid while the runtime lives; perch_cache_ref() it
 * to keep it longer). Thread: any. Returns: NULL for an invalid handle. */
PERCH_API perch_cache *perch_runtime_cache(perch_runtime *runtime);

#ifdef __cplusplus
}
#endif

#endif /* PERCH_PERCH_H */

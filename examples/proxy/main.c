/*
 * perch-proxy: a CloudFront-shaped caching edge from a JSON file, built on the public C API
 * only (perch.h) and libuv.
 *
 *   perch-proxy --config FILE [--log-level error|warn|info|debug] [--stats-interval SECONDS]
 *   perch-proxy --check-config FILE
 *   perch-proxy --version | --help
 *
 * perch.workers threads each run a libuv loop with a perch runtime listening on the configured
 * addresses (SO_REUSEPORT spreads connections); they share one cache. An address another
 * process already listens on is refused at startup, so that two proxies never split its
 * traffic. SIGTERM or SIGINT stop accepting and let responses in flight finish
 * (perch.shutdown_timeout), then the process exits 0. A second signal exits at once with
 * status 1. SIGHUP is logged and ignored (reload does not exist yet). Bad or unreadable
 * configuration: exit status 2, with every error it has, one per line; cannot start: 1. Those
 * errors are printed as "perch-proxy: error: ..."; everything later goes through log_line().
 * With perch.admin, worker 0 also serves the admin endpoint (POST /invalidations).
 */
#define _POSIX_C_SOURCE 200809L

#include <perch/perch.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

typedef struct worker {
    int index;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop;
    perch_runtime *runtime;
    uv_sem_t started;
    perch_status start_status;
    char start_error[512];
    uint16_t admin_port; /* worker 0: the admin endpoint's port, 0 if none */
} worker;

static perch_config *g_config;
static perch_cache *g_cache;
static worker *g_workers;
static uint32_t g_worker_count;
static int32_t g_log_level = PERCH_LOG_WARN;
static uv_async_t g_worker_done;
static uv_mutex_t g_done_mutex;
static uint32_t g_workers_done; /* guarded by g_done_mutex */
static uv_signal_t g_sigterm, g_sigint, g_sighup;
static uv_timer_t g_stats_timer;
static uv_timer_t g_shutdown_deadline; /* the shutdown timeout is final (on_shutdown_deadline) */
static int g_stopping;
static uv_mutex_t g_log_mutex;

static const char *level_name(int32_t level) {
    switch (level) {
    case PERCH_LOG_ERROR:
        return "error";
    case PERCH_LOG_WARN:
        return "warn";
    case PERCH_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

static void log_line(void *user, int32_t level, const char *id, size_t id_len, const char *msg,
                     size_t msg_len) {
    (void)user;
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    uv_mutex_lock(&g_log_mutex);
    if (id_len)
        fprintf(stderr, "%s %s [%.*s] %.*s\n", when, level_name(level), (int)id_len, id,
                (int)msg_len, msg);
    else
        fprintf(stderr, "%s %s %.*s\n", when, level_name(level), (int)msg_len, msg);
    uv_mutex_unlock(&g_log_mutex);
}

static void say(int32_t level, const char *msg) {
    log_line(NULL, level, NULL, 0, msg, strlen(msg));
}

/* Before the log is set up (configuration, startup): one line on stderr. */
static void fail_line(const char *what, const char *detail) {
    if (detail)
        fprintf(stderr, "perch-proxy: error: %s: %s\n", what, detail);
    else
        fprintf(stderr, "perch-proxy: error: %s\n", what);
}

/* A configuration's errors (perch_config_last_error() has one per line): each on a line of
 * its own after the file's name, as a compiler prints them. */
static void fail_lines(const char *what, const char *details) {
    for (const char *line = details;;) {
        const char *end = strchr(line, '\n');
        int len = end ? (int)(end - line) : (int)strlen(line);
        fprintf(stderr, "perch-proxy: error: %s: %.*s\n", what, len, line);
        if (!end) break;
        line = end + 1;
    }
}

/* ---- startup: is a listen address free? ---------------------------------------------------- */

/* Binds url's address (a perch.listen entry, already validated: "http://HOST:PORT", HOST
 * numeric, bracketed IPv6 or localhost) once without SO_REUSEPORT, then closes the socket. The
 * workers' listeners set SO_REUSEPORT so that they can share the port; this bind fails if any
 * socket already listens there, which before the workers start means another process.
 * SO_REUSEADDR keeps connections of an earlier run in TIME_WAIT from counting.
 * Returns 0, or the errno of the failed bind (EADDRINUSE: another process listens). */
static int probe_listen_address(const char *url) {
    const char *p = strstr(url, "://");
    if (!p) return EINVAL;
    p += 3;
    char host[64];
    const char *end = *p == '[' ? strchr(p, ']') : strrchr(p, ':');
    if (*p == '[') p++;
    if (!end || end < p || (size_t)(end - p) >= sizeof host) return EINVAL;
    memcpy(host, p, (size_t)(end - p));
    host[end - p] = 0;
    long port = atol(strrchr(end, ':') + 1);
    if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1"); /* as perch binds it */

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        len = sizeof *v6;
    } else {
        return EINVAL;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) return errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

/* Whether every perch.listen address is free of other processes; prints the first that is
 * not. Other bind errors are left to the workers, which report them as they listen. */
static int listen_addresses_free(void) {
    const char *url;
    for (uint32_t i = 0; (url = perch_config_listen_url(g_config, i)) != NULL; ++i) {
        if (probe_listen_address(url) == EADDRINUSE) {
            char what[320];
            snprintf(what, sizeof what, "cannot start: %s", url);
            fail_line(what, "address already in use (another process listens there)");
            return 0;
        }
    }
    return 1;
}

/* n bytes in the largest unit that keeps at least 1 of it, to about three digits:
 * "512 B", "1.50 KiB", "12.3 MiB", "640 MiB". */
static void format_bytes(uint64_t n, char *out, size_t len) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (n < 1024) {
        snprintf(out, len, "%llu B", (unsigned long long)n);
        return;
    }
    double v = (double)n / 1024.0;
    int u = 0;
    while (v >= 1023.5 && u < 3) { /* 1023.5 would print as 1024 */
        v /= 1024.0;
        u++;
    }
    snprintf(out, len, v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* ---- worker threads ----------------------------------------------------------------------- */

static void on_worker_shutdown(void *user, perch_runtime *rt) {
    worker *w = user;
    perch_runtime_destroy(rt);
    w->runtime = NULL;
    uv_close((uv_handle_t *)&w->stop, NULL); /* the loop ends once everything has closed */
}

static void on_worker_stop(uv_async_t *a) {
    worker *w = a->data;
    if (w->runtime)
        perch_runtime_shutdown(w->runtime, perch_config_shutdown_timeout_ms(g_config),
                               on_worker_shutdown, w);
    else if (!uv_is_closing((uv_handle_t *)&w->stop))
        uv_close((uv_handle_t *)&w->stop, NULL); /* this worker never started */
}

static void worker_main(void *arg) {
    worker *w = arg;
    uv_loop_init(&w->loop);
    uv_async_init(&w->loop, &w->stop, on_worker_stop);
    w->stop.data = w;
    perch_runtime_options o;
    perch_runtime_options_init(&o, sizeof o);
    o.loop_mode = PERCH_LOOP_EXTERNAL;
    o.uv_loop = &w->loop;
    o.cache = g_cache;
    o.log = log_line;
    o.log_level = g_log_level;
    w->start_status = perch_runtime_create(g_config, &o, &w->runtime);
    if (w->start_status == PERCH_OK) {
        w->start_status = perch_runtime_listen_configured(w->runtime);
        /* The admin endpoint (perch.admin) runs on worker 0 only; the cache is shared, so
         * its invalidations apply to every worker. */
        if (w->start_status == PERCH_OK && w->index == 0) {
            perch_status st = perch_runtime_listen_admin(w->runtime, &w->admin_port);
            if (st != PERCH_OK && st != PERCH_E_NOT_FOUND) w->start_status = st;
        }
        if (w->start_status != PERCH_OK)
            snprintf(w->start_error, sizeof w->start_error, "%s",
                     perch_runtime_last_error(w->runtime));
    } else {
        snprintf(w->start_error, sizeof w->start_error, "%s", perch_strerror(w->start_status));
    }
    if (w->start_status != PERCH_OK && w->runtime) {
        perch_runtime_destroy(w->runtime); /* its loop runs until main sends stop */
        w->runtime = NULL;
    }
    uv_sem_post(&w->started);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    uv_mutex_lock(&g_done_mutex);
    g_workers_done++;
    uv_mutex_unlock(&g_done_mutex);
    uv_async_send(&g_worker_done);
}

/* ---- main loop: signals, stats, worker completion ------------------------------------------ */

static void print_stats(void) {
    perch_runtime_stats total;
    memset(&total, 0, sizeof total);
    for (uint32_t i = 0; i < g_worker_count; ++i) {
        perch_runtime_stats s;
        s.struct_size = sizeof s;
        if (!g_workers[i].runtime || perch_runtime_get_stats(g_workers[i].runtime, &s) != PERCH_OK)
            continue;
        total.requests += s.requests;
        total.hits += s.hits;
        total.misses += s.misses;
        total.errors += s.errors;
        total.rejected += s.rejected;
        total.bytes_out += s.bytes_out;
        total.connections_active += s.connections_active;
    }
    perch_cache_stats c;
    c.struct_size = sizeof c;
    perch_cache_get_stats(g_cache, &c);
    double served = (double)(total.hits + total.misses);
    char out[32], used[32], budget[32], line[320];
    format_bytes(total.bytes_out, out, sizeof out);
    format_bytes(c.bytes_used, used, sizeof used);
    format_bytes(c.bytes_budget, budget, sizeof budget);
    snprintf(line, sizeof line,
             "stats: %llu requests (%llu rejected), hit ratio %.1f%% (%llu hits, %llu misses), "
             "%s out, %llu connections, cache %llu objects, %s of %s",
             (unsigned long long)total.requests, (unsigned long long)total.rejected, served > 0 ? 100.0 * total.hits / served : 0.0,
             (unsigned long long)total.hits, (unsigned long long)total.misses, out, (unsigned long long)total.connections_active, (unsigned long long)c.entries, used,
             budget);
    say(PERCH_LOG_INFO, line);
}

static void on_stats_timer(uv_timer_t *t) {
    (void)t;
    print_stats();
}

/* Workers whose loops have not ended long after perch.shutdown_timeout are stuck in work no
 * timeout can cut (a thread-pool read from a hung file system keeps a loop alive): the process
 * exits anyway, so that the timeout is final. */
static void on_shutdown_deadline(uv_timer_t *t) {
    (void)t;
    uv_mutex_lock(&g_done_mutex);
    uint32_t done = g_workers_done;
    uv_mutex_unlock(&g_done_mutex);
    char msg[160];
    snprintf(msg, sizeof msg,
             "shutdown: %u worker(s) still busy 2 s after the shutdown timeout (stuck thread-pool "
             "work, such as a hung file system); exiting anyway",
             (unsigned)(g_worker_count - done));
    say(PERCH_LOG_ERROR, msg);
    fflush(stdout);
    fflush(stderr);
    _exit(1); /* the stuck threads hold locks and memory: no orderly teardown */
}

static void stop_workers(void) {
    g_stopping = 1;
    uv_timer_stop(&g_stats_timer);
    uv_timer_start(&g_shutdown_deadline, on_shutdown_deadline,
                   (uint64_t)perch_config_shutdown_timeout_ms(g_config) + 2000, 0);
    for (uint32_t i = 0; i < g_worker_count; ++i)
        uv_async_send(&g_workers[i].stop);
}

static void on_signal(uv_signal_t *s, int signum) {
    (void)s;
    if (g_stopping) {
        say(PERCH_LOG_WARN, "second signal: exiting now");
        exit(1);
    }
    char msg[96];
    snprintf(msg, sizeof msg, "%s: finishing requests in flight, then exiting",
             signum == SIGTERM ? "SIGTERM" : "SIGINT");
    say(PERCH_LOG_INFO, msg); /* an asked-for stop is news, not a warning */
    print_stats();
    stop_workers();
}

/* Until configuration reload exists, SIGHUP (which would otherwise end the process with 129
 * and no word) is logged and ignored. */
static void on_sighup(uv_signal_t *s, int signum) {
    (void)s;
    (void)signum;
    say(PERCH_LOG_WARN, "SIGHUP: configuration reload is not supported yet; ignored");
}

static void on_worker_done(uv_async_t *a) {
    (void)a;
    /* uv_async_send coalesces several sends: count the workers whose loops have ended. */
    uv_mutex_lock(&g_done_mutex);
    uint32_t done = g_workers_done;
    uv_mutex_unlock(&g_done_mutex);
    if (done < g_worker_count) return;
    uv_close((uv_handle_t *)&g_worker_done, NULL);
    uv_close((uv_handle_t *)&g_sigterm, NULL);
    uv_close((uv_handle_t *)&g_sigint, NULL);
    uv_close((uv_handle_t *)&g_sighup, NULL);
    uv_close((uv_handle_t *)&g_stats_timer, NULL);
    uv_close((uv_handle_t *)&g_shutdown_deadline, NULL);
}

/* ---- command line ------------------------------------------------------------------------- */

static void print_usage(FILE *to) {
    fprintf(to, "usage: perch-proxy --config FILE [--log-level error|warn|info|debug]\n"
                "                   [--stats-interval SECONDS]\n"
                "       perch-proxy --check-config FILE\n"
                "       perch-proxy --version | --help\n");
}

/* A command line that cannot be used: the usage on stderr, exit 2. */
static void usage(void) {
    print_usage(stderr);
    exit(2);
}

static int32_t parse_level(const char *s) {
    if (!strcmp(s, "error")) return PERCH_LOG_ERROR;
    if (!strcmp(s, "warn")) return PERCH_LOG_WARN;
    if (!strcmp(s, "info")) return PERCH_LOG_INFO;
    if (!strcmp(s, "debug")) return PERCH_LOG_DEBUG;
    usage();
    return 0;
}

int main(int argc, char **argv) {
    const char *config_path = NULL;
    int check_only = 0;
    long stats_interval = 10;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            config_path = argv[++i];
        else if (!strcmp(argv[i], "--check-config") && i + 1 < argc) {
            config_path = argv[++i];
            check_only = 1;
        } else if (!strcmp(argv[i], "--log-level") && i + 1 < argc)
            g_log_level = parse_level(argv[++i]);
        else if (!strcmp(argv[i], "--stats-interval") && i + 1 < argc)
            stats_interval = atol(argv[++i]);
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--version")) {
            printf("perch-proxy %s\n", perch_version_string());
            return 0;
        } else
            usage();
    }
    if (!config_path) usage();
    uv_mutex_init(&g_log_mutex);
    uv_mutex_init(&g_done_mutex);

    if (perch_config_create(&g_config) != PERCH_OK) {
        fail_line("out of memory", NULL);
        return 1;
    }
    perch_status st = perch_config_load_file(g_config, config_path);
    if (st != PERCH_OK) {
        /* A file that cannot be read is a bad configuration too; its message names it. */
        if (st == PERCH_E_IO)
            fail_line(perch_config_last_error(g_config), NULL);
        else
            fail_lines(config_path, perch_config_last_error(g_config));
        return 2;
    }
    if (check_only) {
        printf("%s: configuration is valid\n%s", config_path, perch_config_describe(g_config));
        perch_config_unref(g_config);
        return 0;
    }

    if (!listen_addresses_free()) return 1;
    if ((st = perch_cache_create(g_config, NULL, &g_cache)) != PERCH_OK) {
        fail_line("cannot create the cache", perch_strerror(st));
        return 1;
    }
    g_worker_count = perch_config_workers(g_config);
    g_workers = calloc(g_worker_count, sizeof *g_workers);
    if (!g_workers) {
        fail_line("out of memory", NULL);
        return 1;
    }

    uv_loop_t *loop = uv_default_loop();
    uv_async_init(loop, &g_worker_done, on_worker_done);
    uv_timer_init(loop, &g_shutdown_deadline);
    uv_signal_init(loop, &g_sigterm);
    uv_signal_init(loop, &g_sigint);
    uv_signal_start(&g_sigterm, on_signal, SIGTERM);
    uv_signal_start(&g_sigint, on_signal, SIGINT);
    uv_signal_init(loop, &g_sighup);
    uv_signal_start(&g_sighup, on_sighup, SIGHUP);
    signal(SIGPIPE, SIG_IGN);

    int failed = 0;
    for (uint32_t i = 0; i < g_worker_count; ++i) {
        worker *w = &g_workers[i];
        w->index = (int)i;
        uv_sem_init(&w->started, 0);
        uv_thread_create(&w->thread, worker_main, w);
        uv_sem_wait(&w->started);
        if (w->start_status != PERCH_OK && !failed) {
            fail_line("cannot start", w->start_error);
            failed = 1;
        }
    }
    if (failed) {
        stop_workers();
    } else {
        printf("perch-proxy %s serving with %u worker%s\n%s", perch_version_string(),
               g_worker_count, g_worker_count == 1 ? "" : "s", perch_config_describe(g_config));
        if (g_workers[0].admin_port)
            printf("admin endpoint listening on port %u (POST /invalidations)\n",
                   (unsigned)g_workers[0].admin_port);
        fflush(stdout);
        uv_timer_init(loop, &g_stats_timer);
        if (stats_interval > 0)
            uv_timer_start(&g_stats_timer, on_stats_timer, (uint64_t)stats_interval * 1000,
                           (uint64_t)stats_interval * 1000);
    }
    if (failed) uv_timer_init(loop, &g_stats_timer);
    uv_run(loop, UV_RUN_DEFAULT);
    for (uint32_t i = 0; i < g_worker_count; ++i)
        uv_thread_join(&g_workers[i].thread);
    uv_loop_close(loop);
    free(g_workers);
    perch_cache_unref(g_cache);
    perch_config_unref(g_config);
    if (!failed) say(PERCH_LOG_INFO, "stopped");
    return failed ? 1 : 0;
}

/* `fleetsim verifier`: a third-party verification endpoint (seed 000, Tables
 * 1-3) for tests of a gateway's third-party mode.  It answers every POST as its
 * mode says and logs each request as a JSON line, so a test can check what the
 * gateway sent.  libmicrohttpd, a thread per connection (a slow answer delays
 * only its own request). */
#include <cjson/cJSON.h>
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/run.h"
#include "sim/cli/cmd.h"
#include "sim/platform/jt808/jt808_verify.h"

#define BODY_MAX (64 * 1024)     /* a request body larger than this is answered 413 */
#define SLOW_MAX_MS 600000
#define KNOWN_MAX 4096           /* phones whose registered triple is remembered for auth */

enum vmode { VM_TRUE, VM_FALSE, VM_SLOW, VM_GARBAGE, VM_HTTP };

struct known {
    char phone[24];
    struct jt808_verify_dev dev;
};

struct verifier {
    enum vmode mode;
    int code;                 /* false: message code; http: status */
    unsigned slow_ms;
    char auth_code[64];       /* --auth-code; "" = "AC" + the phone */
    FILE *log;
    pthread_mutex_t mu;       /* the log and the known triples */
    struct known *known;
    size_t n_known;
};

struct req {
    char *body;
    size_t len;
    int too_big;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig) { stop = sig; }

static int usage(FILE *to)
{
    fprintf(to,
            "usage: fleetsim verifier [options]\n"
            "A third-party verification endpoint: answers the JSON a JT/T 808 gateway posts for\n"
            "register, auth and unregister (seed 000's Tables 1-3) and logs each request.\n"
            "\n"
            "  -l, --listen ADDR:PORT  where to listen (default 127.0.0.1:0, any free port); the\n"
            "                          first line on stdout is \"listening on ADDR:PORT\"\n"
            "  -m, --mode MODE         true (default): accept; false:CODE: refuse with message\n"
            "                          CODE (1-4); slow:MS: accept after MS ms; garbage: a body\n"
            "                          that is not JSON; http:STATUS: an HTTP error (400-599)\n"
            "      --auth-code CODE    the authCode of an accepted register (default \"AC\" + phone)\n"
            "  -o, --log FILE          append each request as a JSON line (default: stdout)\n"
            "  -h, --help              this text\n"
            "\n"
            "An accepted auth names the device registered under its phone (the triple of its\n"
            "last register), or mf0001/dm0001/di0001 (the seed's example) for a phone it never saw.\n"
            "Runs until SIGINT or SIGTERM.  Exit: 0, 2 usage error or cannot listen.\n"
            "example: fleetsim verifier --listen 127.0.0.1:8808 --mode false:4 --log requests.jsonl\n");
    return to == stdout ? 0 : RUN_EXIT_USAGE;
}

static int parse_mode(const char *s, struct verifier *v)
{
    char *end;
    if (strcmp(s, "true") == 0) {
        v->mode = VM_TRUE;
        return 0;
    }
    if (strcmp(s, "garbage") == 0) {
        v->mode = VM_GARBAGE;
        return 0;
    }
    if (strncmp(s, "false:", 6) == 0) {
        long c = strtol(s + 6, &end, 10);
        if (end == s + 6 || *end || c < 1 || c > 4)
            return -1;
        v->mode = VM_FALSE;
        v->code = (int)c;
        return 0;
    }
    if (strncmp(s, "slow:", 5) == 0) {
        long ms = strtol(s + 5, &end, 10);
        if (end == s + 5 || *end || ms < 0 || ms > SLOW_MAX_MS)
            return -1;
        v->mode = VM_SLOW;
        v->slow_ms = (unsigned)ms;
        return 0;
    }
    if (strncmp(s, "http:", 5) == 0) {
        long st = strtol(s + 5, &end, 10);
        if (end == s + 5 || *end || st < 400 || st > 599)
            return -1;
        v->mode = VM_HTTP;
        v->code = (int)st;
        return 0;
    }
    return -1;
}

static const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : "";
}

/* Remember (or look up) the triple a phone registered with. */
static void known_put(struct verifier *v, const char *phone, const cJSON *o)
{
    struct known *k = NULL;
    for (size_t i = 0; i < v->n_known && !k; i++)
        if (strcmp(v->known[i].phone, phone) == 0)
            k = &v->known[i];
    if (!k && v->n_known < KNOWN_MAX)
        k = &v->known[v->n_known++];
    if (!k)
        return;
    snprintf(k->phone, sizeof k->phone, "%s", phone);
    snprintf(k->dev.manufacturer, sizeof k->dev.manufacturer, "%s", str_of(o, "manufacturer"));
    snprintf(k->dev.model, sizeof k->dev.model, "%s", str_of(o, "deviceModel"));
    snprintf(k->dev.device_id, sizeof k->dev.device_id, "%s", str_of(o, "deviceId"));
}

static struct jt808_verify_dev known_get(struct verifier *v, const char *phone)
{
    struct jt808_verify_dev d = {"mf0001", "dm0001", "di0001"};
    for (size_t i = 0; i < v->n_known; i++)
        if (strcmp(v->known[i].phone, phone) == 0)
            return v->known[i].dev;
    return d;
}

/* The answer to one request body: its JSON text (malloc'd) and HTTP status. */
static char *answer_for(struct verifier *v, const cJSON *req, int *status)
{
    const char *action = str_of(req, "action"), *phone = str_of(req, "phone");
    cJSON *o = cJSON_CreateObject();
    char code[8], ac[80];
    *status = MHD_HTTP_OK;
    if (!o)
        return NULL;
    if (!cJSON_IsObject(req) || !action[0]) {
        *status = MHD_HTTP_BAD_REQUEST;
        cJSON_AddStringToObject(o, "result", "false");
        cJSON_AddStringToObject(o, "message", "the body is not a JSON object with an action");
    } else if (v->mode == VM_FALSE) {
        snprintf(code, sizeof code, "%d", v->code);
        cJSON_AddStringToObject(o, "result", "false");
        cJSON_AddStringToObject(o, "message", code);
    } else {
        cJSON_AddStringToObject(o, "result", "true");
        cJSON_AddStringToObject(o, "message", "");
        if (strcmp(action, "register") == 0) {
            if (v->auth_code[0])
                snprintf(ac, sizeof ac, "%s", v->auth_code);
            else
                snprintf(ac, sizeof ac, "AC%.70s", phone);
            cJSON_AddStringToObject(o, "authCode", ac);
            known_put(v, phone, req);
        } else if (strcmp(action, "auth") == 0) {
            struct jt808_verify_dev d = known_get(v, phone);
            cJSON_AddStringToObject(o, "manufacturer", d.manufacturer);
            cJSON_AddStringToObject(o, "deviceModel", d.model);
            cJSON_AddStringToObject(o, "deviceId", d.device_id);
        }
    }
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}

static void log_request(struct verifier *v, const char *method, const char *url, const struct req *rq, int status,
                        const char *mode_seen)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cJSON *line = cJSON_CreateObject();
    if (!line)
        return;
    cJSON_AddNumberToObject(line, "t_ms", (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000));
    cJSON_AddStringToObject(line, "method", method);
    cJSON_AddStringToObject(line, "path", url);
    cJSON *body = rq->body ? cJSON_ParseWithLength(rq->body, rq->len) : NULL;
    if (body)
        cJSON_AddItemToObject(line, "body", body);
    else
        cJSON_AddStringToObject(line, "body_text", rq->body ? rq->body : "");
    cJSON_AddNumberToObject(line, "status", status);
    cJSON_AddStringToObject(line, "mode", mode_seen);
    char *text = cJSON_PrintUnformatted(line);
    cJSON_Delete(line);
    if (text) {
        fprintf(v->log, "%s\n", text);
        fflush(v->log);
        free(text);
    }
}

static const char *mode_name(const struct verifier *v)
{
    static const char *const names[] = {"true", "false", "slow", "garbage", "http"};
    return names[v->mode];
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *data_size, void **con_cls)
{
    struct verifier *v = cls;
    struct req *rq = *con_cls;
    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*data_size) {
        if (rq->len + *data_size > BODY_MAX) {
            rq->too_big = 1;
        } else {
            char *nb = realloc(rq->body, rq->len + *data_size + 1);
            if (!nb)
                return MHD_NO;
            memcpy(nb + rq->len, data, *data_size);
            rq->body = nb;
            rq->len += *data_size;
            nb[rq->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    int status = MHD_HTTP_OK;
    char *text = NULL;
    if (strcmp(method, "POST") != 0) {
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
        text = strdup("{\"result\":\"false\",\"message\":\"POST only\"}");
    } else if (rq->too_big) {
        status = MHD_HTTP_CONTENT_TOO_LARGE;
        text = strdup("{\"result\":\"false\",\"message\":\"body too large\"}");
    } else if (v->mode == VM_HTTP) {
        status = v->code;
        text = strdup("{\"result\":\"false\",\"message\":\"http error\"}");
    } else if (v->mode == VM_GARBAGE) {
        text = strdup("<html>verification unavailable</html>");
    } else {
        cJSON *req = rq->body ? cJSON_ParseWithLength(rq->body, rq->len) : NULL;
        pthread_mutex_lock(&v->mu);
        text = answer_for(v, req, &status);
        pthread_mutex_unlock(&v->mu);
        cJSON_Delete(req);
    }
    pthread_mutex_lock(&v->mu);
    log_request(v, method, url, rq, status, mode_name(v));
    pthread_mutex_unlock(&v->mu);
    if (v->mode == VM_SLOW && v->slow_ms) {
        struct timespec ts = {v->slow_ms / 1000, (long)(v->slow_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !stop)
            ;
    }
    if (!text)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", v->mode == VM_GARBAGE ? "text/html" : "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static void done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct req *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

int cmd_verifier(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'}, {"mode", required_argument, NULL, 'm'},
        {"auth-code", required_argument, NULL, 'A'}, {"log", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    struct verifier v;
    memset(&v, 0, sizeof v);
    char listen[96] = "127.0.0.1:0";
    const char *log_path = NULL;
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":l:m:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            snprintf(listen, sizeof listen, "%s", optarg);
            break;
        case 'm':
            if (parse_mode(optarg, &v) != 0)
                return cmd_usage_error("verifier", "--mode: '%s' is not true, false:1-4, slow:0-%d, garbage or "
                                       "http:400-599", optarg, SLOW_MAX_MS);
            break;
        case 'A':
            if (!optarg[0] || strlen(optarg) >= sizeof v.auth_code)
                return cmd_usage_error("verifier", "--auth-code: needs 1-%zu bytes", sizeof v.auth_code - 1);
            snprintf(v.auth_code, sizeof v.auth_code, "%s", optarg);
            break;
        case 'o':
            log_path = optarg;
            break;
        case 'h':
            return usage(stdout);
        default:
            return cmd_bad_option("verifier", opts, c, argv);
        }
    }
    if (optind < argc)
        return cmd_usage_error("verifier", "unexpected argument '%s'", argv[optind]);
    char *colon = strrchr(listen, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    if (!colon || end == colon + 1 || *end || port < 0 || port > 65535)
        return cmd_usage_error("verifier", "--listen: '%s' is not ADDR:PORT", listen);
    *colon = '\0';
    if (inet_pton(AF_INET, listen, &sa.sin_addr) != 1)
        return cmd_usage_error("verifier", "--listen: '%s' is not an IPv4 address", listen);
    sa.sin_port = htons((uint16_t)port);
    v.log = stdout;
    if (log_path && !(v.log = fopen(log_path, "a"))) {
        fprintf(stderr, "fleetsim verifier: %s: %s\n", log_path, strerror(errno));
        return RUN_EXIT_USAGE;
    }
    v.known = calloc(KNOWN_MAX, sizeof *v.known);
    if (!v.known) {
        fprintf(stderr, "fleetsim verifier: out of memory\n");
        return RUN_EXIT_USAGE;
    }
    pthread_mutex_init(&v.mu, NULL);
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD,
                                            (uint16_t)port, NULL, NULL, handle, &v, MHD_OPTION_SOCK_ADDR,
                                            (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, done, NULL,
                                            MHD_OPTION_CONNECTION_LIMIT, 256u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                            MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fleetsim verifier: cannot listen on %s:%ld\n", listen, port);
        return RUN_EXIT_USAGE;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on %s:%u\n", listen, info ? (unsigned)info->port : (unsigned)port);
    fflush(stdout);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    if (v.log != stdout)
        fclose(v.log);
    pthread_mutex_destroy(&v.mu);
    free(v.known);
    return 0;
}

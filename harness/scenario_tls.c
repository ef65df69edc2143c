/* The "tls" objects of a scenario: the platform's (server certificate, device
 * root CA) and a fleet's (CA to trust, device certificates).  Paths are relative
 * to the scenario file; the files are read and checked here, so a missing file,
 * a bad PEM or a key that does not match its certificate is an error of the
 * file with its path, before anything starts. */
#include "harness/scenario_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/scenario_json.h"
#include "sim/net/tls.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const char *const server_fields[] = {"cert", "key", "device_ca", "ocsp", "ocsp_responder",
                                            "server_ocsp_responder", "trusted_ca"};
static const char *const ocsp_modes[] = {"disabled", "client", "server", "both"};
static const char *const client_fields[] = {"ca", "cert", "key", "server_name", "ocsp_stapling", "max_handshakes"};
static const char *const stapling_modes[] = {"off", "request", "require"};

/* obj.key, resolved against the scenario's folder, into out; SJ_ABSENT when not there. */
static int path_field(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key,
                      const char *scenario_path, char *out, size_t cap)
{
    char rel[TLS_PATH_MAX], p[SCENARIO_JSON_PATH_MAX];
    int r = scenario_json_string(j, obj, path, key, SJ_OPTIONAL, true, rel, sizeof rel);
    if (r != SJ_OK)
        return r;
    const char *slash = scenario_path ? strrchr(scenario_path, '/') : NULL;
    int w = rel[0] == '/' || !slash ? snprintf(out, cap, "%s", rel)
                                    : snprintf(out, cap, "%.*s/%s", (int)(slash - scenario_path), scenario_path, rel);
    scenario_json_path(p, sizeof p, path, key);
    if (w < 0 || (size_t)w >= cap)
        return scenario_json_fail(j, p, "path too long (at most %zu bytes)", cap - 1);
    return SJ_OK;
}

int scenario_tls_parse(const struct scenario_json *j, const cJSON *obj, const char *path, int server,
                       const char *scenario_path, struct tls_opts *o)
{
    char err[400];
    int rc = SJ_OK;
    memset(o, 0, sizeof *o);
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    if (server)
        SJ_TRY(rc, scenario_json_fields(j, obj, path, server_fields, N_OF(server_fields)));
    else
        SJ_TRY(rc, scenario_json_fields(j, obj, path, client_fields, N_OF(client_fields)));
    SJ_TRY(rc, path_field(j, obj, path, "cert", scenario_path, o->cert, sizeof o->cert));
    SJ_TRY(rc, path_field(j, obj, path, "key", scenario_path, o->key, sizeof o->key));
    SJ_TRY(rc, path_field(j, obj, path, server ? "device_ca" : "ca", scenario_path, o->ca, sizeof o->ca));
    char mode[16] = "disabled";
    if (server) {
        int r = scenario_json_enum(j, obj, path, "ocsp", SJ_OPTIONAL, ocsp_modes, N_OF(ocsp_modes), mode, sizeof mode);
        SJ_TRY(rc, r);
        char url[TLS_PATH_MAX] = "", surl[TLS_PATH_MAX] = "";
        r = scenario_json_string(j, obj, path, "ocsp_responder", SJ_OPTIONAL, true, url, sizeof url);
        SJ_TRY(rc, r);
        r = scenario_json_string(j, obj, path, "server_ocsp_responder", SJ_OPTIONAL, true, surl, sizeof surl);
        SJ_TRY(rc, r);
        SJ_TRY(rc, path_field(j, obj, path, "trusted_ca", scenario_path, o->staple_ca, sizeof o->staple_ca));
        bool client = strcmp(mode, "client") == 0 || strcmp(mode, "both") == 0;
        bool srv = strcmp(mode, "server") == 0 || strcmp(mode, "both") == 0;
        if (rc == SJ_OK && client && (!url[0] || !o->ca[0]))
            rc = scenario_json_fail(j, path, "\"ocsp\": \"%s\" needs \"device_ca\" and \"ocsp_responder\"", mode);
        if (rc == SJ_OK && srv && (!(surl[0] || url[0]) || !o->staple_ca[0]))
            rc = scenario_json_fail(j, path, "\"ocsp\": \"%s\" needs \"trusted_ca\" (the server root CA) and "
                                    "\"server_ocsp_responder\" (or \"ocsp_responder\")", mode);
        if (rc == SJ_OK && !client && !srv && (url[0] || surl[0] || o->staple_ca[0]))
            rc = scenario_json_fail(j, path, "OCSP settings with \"ocsp\": \"disabled\"");
        if (rc == SJ_OK && ((url[0] && strncmp(url, "http://", 7) != 0) || (surl[0] && strncmp(surl, "http://", 7) != 0)))
            rc = scenario_json_fail(j, path, "an OCSP responder is \"http://host:port/path\"");
        if (rc == SJ_OK && client)
            snprintf(o->ocsp_url, sizeof o->ocsp_url, "%s", url);
        if (rc == SJ_OK && srv)
            snprintf(o->staple_url, sizeof o->staple_url, "%s", surl[0] ? surl : url);
        if (!srv)
            o->staple_ca[0] = 0;
    }
    if (!server) {
        char smode[8] = "off";
        int r = scenario_json_enum(j, obj, path, "ocsp_stapling", SJ_OPTIONAL, stapling_modes, N_OF(stapling_modes),
                                   smode, sizeof smode);
        SJ_TRY(rc, r);
        o->ocsp_stapling = strcmp(smode, "require") == 0   ? TLS_STAPLE_REQUIRE
                           : strcmp(smode, "request") == 0 ? TLS_STAPLE_REQUEST
                                                          : TLS_STAPLE_OFF;
        r = scenario_json_string(j, obj, path, "server_name", SJ_OPTIONAL, true, o->server_name, sizeof o->server_name);
        SJ_TRY(rc, r);
        char fp[SCENARIO_JSON_PATH_MAX];
        if (r == SJ_OK && (strspn(o->server_name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:[]") !=
                               strlen(o->server_name))) {
            scenario_json_path(fp, sizeof fp, path, "server_name");
            rc = scenario_json_fail(j, fp, "'%s' is not a host name or an IP address", o->server_name);
        }
        long long mh = 0;
        r = scenario_json_int(j, obj, path, "max_handshakes", SJ_OPTIONAL, 1, 1000000, &mh);
        SJ_TRY(rc, r);
        o->max_handshakes = r == SJ_OK ? (unsigned)mh : 0;
        if (rc == SJ_OK && o->ocsp_stapling && !o->ca[0]) {
            scenario_json_path(fp, sizeof fp, path, "ocsp_stapling");
            rc = scenario_json_fail(j, fp, "needs \"ca\" (the staple's signer is checked against it)");
        }
    }
    if (rc != SJ_OK)
        return rc;
    struct stat sb;
    if (!server && o->cert[0] && !o->key[0] && stat(o->cert, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        /* a folder of device certificates: terminal n's are {n}.crt and {n}.key */
        char dir[TLS_PATH_MAX];
        snprintf(dir, sizeof dir, "%s", o->cert);
        if (snprintf(o->cert, sizeof o->cert, "%s/{n}.crt", dir) >= (int)sizeof o->cert ||
            snprintf(o->key, sizeof o->key, "%s/{n}.key", dir) >= (int)sizeof o->key)
            return scenario_json_fail(j, path, "cert: path too long");
    }
    if (server && (!o->cert[0] || !o->key[0]))
        return scenario_json_fail(j, path, "needs \"cert\" and \"key\" (the server certificate and its key)");
    if (!server && !o->cert[0] != !o->key[0])
        return scenario_json_fail(j, path, "\"cert\" and \"key\" go together (a device certificate and its key)");
    if (tls_opts_check(o, server, err, sizeof err) < 0)
        return scenario_json_fail(j, path, "%s", err);
    return SJ_OK;
}

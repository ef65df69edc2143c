/* The northbound API's commands as JT/T 808 platform requests (frontend.h:
 * map_command): command.method is a request of jt808_kinds.c, by its message id
 * ("0x8104") or by a name (the table below, docs/api-commands.md); command.paras
 * is its body exactly as a scenario's command step takes it (absent: the kind's
 * default body), checked by building it for a 2013 and a 2019 terminal: at least
 * one must take it.  command.serviceId is free text for JT/T 808 (kept and shown). */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/platform/jt808/jt808_gw.h"
#include "sim/proto/jt808_kinds.h"

static const struct {
    const char *name;
    uint16_t msg;
} NAMES[] = {
    {"SET_PARAMS", 0x8103},        {"QUERY_PARAMS", 0x8104},     {"TERMINAL_CONTROL", 0x8105},
    {"QUERY_SOME_PARAMS", 0x8106}, {"QUERY_PROPERTIES", 0x8107}, {"UPGRADE", 0x8108},
    {"QUERY_LOCATION", 0x8201},    {"TRACK_LOCATION", 0x8202},   {"CONFIRM_ALARM", 0x8203},
    {"LINK_CHECK", 0x8204},        {"TEXT_MESSAGE", 0x8300},     {"SET_EVENTS", 0x8301},
    {"QUESTION", 0x8302},          {"SET_INFO_MENU", 0x8303},    {"INFO_SERVICE", 0x8304},
    {"CALL_BACK", 0x8400},         {"SET_PHONE_BOOK", 0x8401},   {"VEHICLE_CONTROL", 0x8500},
    {"SET_CIRCLE_AREA", 0x8600},   {"DELETE_CIRCLE_AREA", 0x8601}, {"SET_RECT_AREA", 0x8602},
    {"DELETE_RECT_AREA", 0x8603},  {"SET_POLYGON_AREA", 0x8604}, {"DELETE_POLYGON_AREA", 0x8605},
    {"SET_ROUTE", 0x8606},         {"DELETE_ROUTE", 0x8607},     {"QUERY_AREAS", 0x8608},
    {"DRIVING_RECORD", 0x8700},    {"DRIVING_RECORD_PARAMS", 0x8701}, {"REPORT_DRIVER_ID", 0x8702},
    {"TAKE_PHOTO", 0x8801},        {"QUERY_MEDIA", 0x8802},      {"UPLOAD_MEDIA", 0x8803},
    {"RECORD_AUDIO", 0x8804},      {"UPLOAD_ONE_MEDIA", 0x8805}, {"PASSTHROUGH", 0x8900},
    {"RSA_KEY", 0x8A00},
};

/* The request method names, or 0. */
static uint16_t method_msg(const char *method)
{
    for (size_t i = 0; i < sizeof NAMES / sizeof *NAMES; i++)
        if (strcasecmp(method, NAMES[i].name) == 0)
            return NAMES[i].msg;
    if ((method[0] == '0') && (method[1] == 'x' || method[1] == 'X') && strlen(method) == 6) {
        char *end;
        unsigned long v = strtoul(method + 2, &end, 16);
        if (!*end)
            return (uint16_t)v;
    }
    return 0;
}

int jt808_gw_map_command(const char *service_id, const char *method, const cJSON *paras, uint32_t *kind,
                         char **body, char *err, size_t errcap)
{
    (void)service_id;
    *body = NULL;
    uint16_t msg = method ? method_msg(method) : 0;
    int ki = msg ? jt808_kind_index(msg) : -1;
    /* 0x8003 and 0x8800 ask for packages of a message the terminal sent: plumbing, not commands */
    if (ki < 0 || msg == 0x8003 || msg == 0x8800) {
        snprintf(err, errcap, "command.method: '%s' is not a JT/T 808 request the platform sends (a message id "
                              "such as 0x8104, or a name such as QUERY_PARAMS: docs/api-commands.md)",
                 method ? method : "");
        return -1;
    }
    /* {} is no body, as absent: the kind's default (0x8104 and 0x8201 have none) */
    bool given = cJSON_IsObject(paras) && paras->child;
    char *text = given ? cJSON_PrintUnformatted(paras) : NULL;
    if (given && !text) {
        snprintf(err, errcap, "command.paras: out of memory");
        return -1;
    }
    char e13[256] = "", e19[256] = "";
    if (gw_check_command(msg, 2013, text, e13, sizeof e13) < 0 && gw_check_command(msg, 2019, text, e19, sizeof e19) < 0) {
        snprintf(err, errcap, "command.paras: %s", e13[0] ? e13 : e19);
        free(text);
        return -1;
    }
    *kind = (uint32_t)ki;
    *body = text;
    return 0;
}

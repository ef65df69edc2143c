/* JT/T 808-2019 terminal: the server time (fleet option time_query).
 *
 *   authenticated -> 0x0004 query server time (a request in the ledger)
 *   0x8004 (UTC, BCD[6] YYMMDDhhmmss) -> that request settled; counted as an answer,
 *                                        and as off when the time is no date or lies
 *                                        outside [query sent - 1 s, answer came + 1 s]
 *
 * 0x8004 carries no answer serial: it settles the 0x0004 in flight.  The terminal's
 * clock is the run's virtual clock (there is no per-terminal clock to set), so the
 * answer is checked against it rather than applied; a terminal keeps no byte for it. */
#include <time.h>

#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808_layout.h"

/* The BCD text resolves to whole seconds: allow one either side. */
#define TIME_SLACK_S 1

void jt808_term_time_query(struct term *t)
{
    if (!cfg(t)->time_query || jt_version(t) != JT808_V2019 || !term_can_request(t))
        return;
    if (!jt_lay_start(t, 0x0004))
        return;
    if (jt_send(t, true))
        term_count(t, JT808_C_TIME_QUERIES, 1);
}

bool jt808_term_time_parse(const char *digits, int64_t *unix_s)
{
    int v[6];
    for (int i = 0; i < 6; i++) {
        char a = digits[2 * i], b = a ? digits[2 * i + 1] : '\0';
        if (a < '0' || a > '9' || b < '0' || b > '9')
            return false;
        v[i] = (a - '0') * 10 + (b - '0');
    }
    if (digits[12] != '\0')
        return false;
    struct tm tm = {.tm_year = 100 + v[0], .tm_mon = v[1] - 1, .tm_mday = v[2],
                    .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5]};
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[3] > 23 || v[4] > 59 || v[5] > 59)
        return false;
    time_t s = timegm(&tm);
    struct tm back;
    /* timegm carries 31 April into May: a day the month does not have is no date */
    if (!gmtime_r(&s, &back) || back.tm_mday != v[2] || back.tm_mon != v[1] - 1)
        return false;
    *unix_s = (int64_t)s;
    return true;
}

void jt808_term_time_answer(struct term *t, const struct jt808_msg *m)
{
    uint32_t serial = 0;
    uint64_t sent_us = 0;
    bool found = false;
    for (int i = 0; i < t->npend && !found; i++)
        if (t->pend[i].kind == 0x0004) {
            serial = t->pend[i].serial;
            sent_us = t->pend[i].sent_us;
            found = true;
        }
    if (!found)
        return; /* an answer to nothing in flight: late after a timeout, as 0x8001 */
    const char *text = NULL;
    int64_t server = 0;
    bool ok = jt808_lay_get_str(m->lay, "time", &text) && jt808_term_time_parse(text, &server);
    int64_t lo = clock_unix_at(sent_us) - TIME_SLACK_S, hi = clock_unix_at(term_now()) + TIME_SLACK_S;
    bool in_time = ok && server >= lo && server <= hi;
    term_settle(t, serial, ok, LEDGER_REFUSED, NULL, NULL);
    term_count(t, JT808_C_TIME_ANSWERS, 1);
    if (!in_time)
        term_count(t, JT808_C_TIME_OFF, 1);
}

/* The small SQLite helpers the services' own tables share (svc.h: each service
 * prepares its statements on store_sqlite(k->store)). */
#ifndef FLEETSIM_SVC_SQL_H
#define FLEETSIM_SVC_SQL_H

#include <sqlite3.h>

/* A text parameter, NULL as SQL NULL (copied: the value may go before the step). */
static inline void svc_sql_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* A text column, "" for NULL. */
static inline const char *svc_sql_col(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

/* Ready the statement for its next use. */
static inline void svc_sql_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Run a statement that writes: 0, or -1 when it did not complete. */
static inline int svc_sql_run(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    svc_sql_done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

#endif

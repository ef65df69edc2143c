/* The migration from the store's version 1: the file earlier releases wrote,
 * the JT/T 808 gateway's registry.  The one place the core knows a protocol by
 * name, because that file held one protocol only. */
#include "sim/platform/core/store_internal.h"

/* Version 1 was the JT/T 808 gateway's registry (tables triples, terminals,
 * positions), so everything in it is protocol 'jt808': the phone is the device id,
 * the vehicle the binding, the auth code the secret, the last position the
 * 'location' service.  attrs and the location's JSON have the shape the JT/T 808
 * module writes for new registrations. */
const char store__migrate_1_sql[] =
    "INSERT INTO devices(protocol, device_id, name, binding, product, attrs, secret, registered_at)"
    " SELECT 'jt808', phone, device_name,"
    " CASE WHEN plate <> '' THEN plate_color || ':' || plate ELSE '' END, '',"
    " json_object('manufacturer', manufacturer, 'model', model, 'terminal_id', terminal_id,"
    "  'plate_color', plate_color, 'plate', plate),"
    " auth_code, registered_at FROM terminals;"
    "INSERT INTO provisioned(protocol, name, binding)"
    " SELECT 'jt808', manufacturer || '_' || model || '_' || terminal_id,"
    " CASE WHEN plate IS NOT NULL AND plate <> '' THEN ifnull(plate_color, 0) || ':' || plate ELSE '' END"
    " FROM triples;"
    "INSERT INTO reports(protocol, device_id, service, data, at_ms, updated_at)"
    " SELECT 'jt808', phone, 'location',"
    " json_object('lat', lat, 'lon', lon, 'altitude', altitude, 'speed', speed,"
    "  'direction', direction, 'alarm', alarm, 'status', status, 'time', time),"
    " updated_at, updated_at FROM positions;"
    "DROP TABLE terminals;"
    "DROP TABLE triples;"
    "DROP TABLE positions;"
    "UPDATE meta SET value = 2 WHERE key = 'schema_version';";

#include "sim/proto/jt808_kinds.h"

#include <stddef.h>

/* Request, reply (0: the resent packages), editions, default bodies (2013, 2019; NULL:
 * none, the step gives the body).  The first six keep their indexes: reports store
 * command counters by index. */
#define B JT808_KE_BOTH
#define E13 JT808_KE_2013
#define E19 JT808_KE_2019
static const struct jt808_kind_info kinds[JT808_N_KINDS] = {
    {0x8103, 0x0001, B, NULL, NULL},
    {0x8104, 0x0104, B, NULL, NULL},
    {0x8105, 0x0001, B, NULL, NULL},
    {0x8201, 0x0201, B, NULL, NULL},
    {0x8300, 0x0001, B, NULL, NULL},
    {0x8108, 0x0001, B, NULL, NULL},
    {0x8003, 0, B, "{\"orig_serial\":1,\"ids\":[{\"id\":1}]}", NULL},
    {0x8106, 0x0104, B, "{\"ids\":[{\"id\":1},{\"id\":41}]}", NULL},
    {0x8107, 0x0107, B, "{}", NULL},
    {0x8202, 0x0001, B, "{\"interval\":10,\"duration\":60}", NULL},
    {0x8203, 0x0001, B, "{\"ack_serial\":0,\"alarm_type\":1}", NULL},
    {0x8204, 0x0001, E19, "{}", NULL},
    {0x8301, 0x0001, B, "{\"type\":1,\"events\":[{\"id\":1,\"content\":\"accident\"}]}", NULL},
    {0x8302, 0x0001, B,
     "{\"flag\":1,\"question\":\"ready?\",\"answers\":[{\"id\":1,\"content\":\"yes\"},{\"id\":2,\"content\":\"no\"}]}",
     NULL},
    {0x8303, 0x0001, B, "{\"type\":1,\"items\":[{\"type\":1,\"name\":\"news\"}]}", NULL},
    {0x8304, 0x0001, E13, "{\"type\":1,\"content\":\"weather: fine\"}", NULL},
    {0x8400, 0x0001, B, "{\"flag\":0,\"phone\":\"13800000000\"}", NULL},
    {0x8401, 0x0001, B,
     "{\"type\":1,\"contacts\":[{\"flag\":3,\"phone\":\"13800000000\",\"name\":\"dispatch\"}]}", NULL},
    {0x8500, 0x0500, B, "{\"flag\":1}", "{\"controls\":[{\"id\":1,\"param\":1}]}"},
    {0x8600, 0x0001, B, "{\"attr\":0,\"areas\":[{\"id\":1,\"attr\":0,\"lat\":22543096,\"lon\":114057865,\"radius\":500}]}",
     "{\"attr\":0,\"areas\":[{\"id\":1,\"attr\":0,\"lat\":22543096,\"lon\":114057865,\"radius\":500,\"name\":\"depot\"}]}"},
    {0x8601, 0x0001, B, "{\"ids\":[{\"id\":1}]}", NULL},
    {0x8602, 0x0001, B,
     "{\"attr\":0,\"areas\":[{\"id\":2,\"attr\":0,\"top_left_lat\":22600000,\"top_left_lon\":114000000,"
     "\"bottom_right_lat\":22500000,\"bottom_right_lon\":114100000}]}",
     "{\"attr\":0,\"areas\":[{\"id\":2,\"attr\":0,\"top_left_lat\":22600000,\"top_left_lon\":114000000,"
     "\"bottom_right_lat\":22500000,\"bottom_right_lon\":114100000,\"name\":\"zone\"}]}"},
    {0x8603, 0x0001, B, "{\"ids\":[{\"id\":2}]}", NULL},
    {0x8604, 0x0001, B,
     "{\"id\":3,\"attr\":0,\"vertices\":[{\"lat\":22500000,\"lon\":114000000},{\"lat\":22600000,\"lon\":114000000},"
     "{\"lat\":22600000,\"lon\":114100000}]}",
     "{\"id\":3,\"attr\":0,\"vertices\":[{\"lat\":22500000,\"lon\":114000000},{\"lat\":22600000,\"lon\":114000000},"
     "{\"lat\":22600000,\"lon\":114100000}],\"name\":\"triangle\"}"},
    {0x8605, 0x0001, B, "{\"ids\":[{\"id\":3}]}", NULL},
    {0x8606, 0x0001, B,
     "{\"id\":4,\"attr\":0,\"points\":[{\"point_id\":1,\"road_id\":1,\"lat\":22500000,\"lon\":114000000,\"width\":20,"
     "\"attr\":0}]}",
     "{\"id\":4,\"attr\":0,\"points\":[{\"point_id\":1,\"road_id\":1,\"lat\":22500000,\"lon\":114000000,\"width\":20,"
     "\"attr\":0}],\"name\":\"route\"}"},
    {0x8607, 0x0001, B, "{\"ids\":[{\"id\":4}]}", NULL},
    {0x8608, 0x0608, E19, "{\"type\":1,\"ids\":[]}", NULL},
    {0x8700, 0x0700, B, "{\"command\":0,\"data\":\"\"}", NULL},
    {0x8701, 0x0001, B, "{\"command\":130,\"data\":\"00\"}", NULL},
    {0x8702, 0x0702, B, "{}", NULL},
    {0x8800, 0, B, "{\"media_id\":1,\"ids\":[]}", NULL},
    {0x8801, 0x0805, B,
     "{\"channel\":1,\"command\":1,\"interval\":0,\"save\":0,\"resolution\":1,\"quality\":5,\"brightness\":128,"
     "\"contrast\":64,\"saturation\":64,\"chroma\":128}",
     NULL},
    {0x8802, 0x0802, B, "{\"type\":0,\"channel\":0,\"event\":0,\"start\":\"000000000000\",\"end\":\"000000000000\"}",
     NULL},
    {0x8803, 0x0001, B,
     "{\"type\":0,\"channel\":0,\"event\":0,\"start\":\"000000000000\",\"end\":\"000000000000\",\"delete\":0}", NULL},
    {0x8804, 0x0001, B, "{\"command\":1,\"duration\":10,\"save\":0,\"rate\":0}", NULL},
    {0x8805, 0x0001, B, "{\"media_id\":1,\"delete\":0}", NULL},
    {0x8900, 0x0001, B, "{\"type\":0,\"data\":\"0102\"}", NULL},
    {0x8A00, 0x0A00, B, NULL, NULL},
};
#undef B
#undef E13
#undef E19

#define K(r, p) {r, p}
const struct proto_kind jt808_kinds[JT808_N_KINDS] = {
    K("0x8103", "0x0001"), K("0x8104", "0x0104"), K("0x8105", "0x0001"), K("0x8201", "0x0201"),
    K("0x8300", "0x0001"), K("0x8108", "0x0001"), K("0x8003", "packages"), K("0x8106", "0x0104"),
    K("0x8107", "0x0107"), K("0x8202", "0x0001"), K("0x8203", "0x0001"), K("0x8204", "0x0001"),
    K("0x8301", "0x0001"), K("0x8302", "0x0001"), K("0x8303", "0x0001"), K("0x8304", "0x0001"),
    K("0x8400", "0x0001"), K("0x8401", "0x0001"), K("0x8500", "0x0500"), K("0x8600", "0x0001"),
    K("0x8601", "0x0001"), K("0x8602", "0x0001"), K("0x8603", "0x0001"), K("0x8604", "0x0001"),
    K("0x8605", "0x0001"), K("0x8606", "0x0001"), K("0x8607", "0x0001"), K("0x8608", "0x0608"),
    K("0x8700", "0x0700"), K("0x8701", "0x0001"), K("0x8702", "0x0702"), K("0x8800", "packages"),
    K("0x8801", "0x0805"), K("0x8802", "0x0802"), K("0x8803", "0x0001"), K("0x8804", "0x0001"),
    K("0x8805", "0x0001"), K("0x8900", "0x0001"), K("0x8A00", "0x0A00"),
};
#undef K

int jt808_kind_index(uint16_t msg_id)
{
    for (int i = 0; i < JT808_N_KINDS; i++)
        if (kinds[i].msg == msg_id)
            return i;
    return -1;
}

const struct jt808_kind_info *jt808_kind_info(int i) { return i >= 0 && i < JT808_N_KINDS ? &kinds[i] : NULL; }
uint16_t jt808_kind_msg(int i) { return i >= 0 && i < JT808_N_KINDS ? kinds[i].msg : 0; }
uint16_t jt808_kind_reply(int i) { return i >= 0 && i < JT808_N_KINDS ? kinds[i].reply : 0; }

const char *jt808_kind_default_body(int i, int version)
{
    const struct jt808_kind_info *k = jt808_kind_info(i);
    if (!k)
        return NULL;
    return version == 2019 && k->body19 ? k->body19 : k->body;
}
